package pytest

import "strings"

// valueFlags are the options of pytest 7.2 and of the plugins Debian ships
// with it (xdist, timeout) that take a value in the next argument (listed
// from pytest's own parser, options whose action stores a value). An
// option not listed is read as a flag; "--opt=value" is one argument
// whatever the option.
var valueFlags = map[string]bool{
	"-k": true, "-m": true, "-r": true, "-W": true, "-c": true, "-p": true, "-o": true, "-n": true,
	"--pdbcls": true, "--capture": true, "--durations": true, "--durations-min": true,
	"--verbosity": true, "--tb": true, "--show-capture": true, "--color": true,
	"--code-highlight": true, "--pastebin": true, "--junitxml": true, "--junit-xml": true,
	"--junitprefix": true, "--junit-prefix": true, "--pythonwarnings": true, "--maxfail": true,
	"--rootdir": true, "--ignore": true, "--ignore-glob": true, "--deselect": true,
	"--confcutdir": true, "--import-mode": true, "--doctest-report": true, "--doctest-glob": true,
	"--basetemp": true, "--override-ini": true, "--assert": true,
	"--log-level": true, "--log-format": true, "--log-date-format": true,
	"--log-cli-level": true, "--log-cli-format": true, "--log-cli-date-format": true,
	"--log-file": true, "--log-file-level": true, "--log-file-format": true,
	"--log-file-date-format": true, "--log-auto-indent": true,
	"--lfnf": true, "--last-failed-no-failures": true,
	"--timeout": true, "--timeout_method": true, "--timeout-method": true,
	"--numprocesses": true, "--maxprocesses": true, "--max-worker-restart": true,
	"--dist": true, "--tx": true, "--rsyncdir": true, "--rsyncignore": true, "--testrunuid": true,
	"--hangdog-select": true, "--hangdog-deselect": true, "--hangdog-deselect-from": true,
}

// optionalValueFlags take a value only when the next argument does not
// start with '-' (argparse's nargs="?").
var optionalValueFlags = map[string]bool{"--debug": true, "--cache-show": true}

// shortValue are the single-letter options that take a value: in a group
// of short options ("-vk", "-xkfoo") the first of them takes the rest of
// the group, or the next argument.
const shortValue = "kmrWcpon"

// arg is one option or positional argument of a pytest command line, with
// its value.
type arg struct {
	name  string   // "-k", "--deselect", "-vx" (a group), or "" for a positional
	words []string // the argument(s) it was made of
	value string
}

// splitArgs reads a pytest command line into options and positional
// arguments; everything after "--" is positional.
func splitArgs(user []string) []arg {
	var out []arg
	for i := 0; i < len(user); i++ {
		a := user[i]
		switch {
		case a == "--":
			for _, p := range user[i+1:] {
				out = append(out, arg{words: []string{p}, value: p})
			}
			return out
		case strings.HasPrefix(a, "--"):
			name, v, eq := strings.Cut(a, "=")
			x := arg{name: name, words: []string{a}, value: v}
			if !eq && i+1 < len(user) {
				next := user[i+1]
				if valueFlags[name] || optionalValueFlags[name] && !strings.HasPrefix(next, "-") {
					x.words = append(x.words, next)
					x.value = next
					i++
				}
			}
			out = append(out, x)
		case len(a) > 1 && a[0] == '-':
			x := arg{name: a, words: []string{a}}
			for j := 1; j < len(a); j++ {
				if strings.IndexByte(shortValue, a[j]) < 0 {
					continue
				}
				x.name = "-" + a[1:j+1]
				if j+1 < len(a) {
					x.value = a[j+1:]
				} else if i+1 < len(user) {
					x.words = append(x.words, user[i+1])
					x.value = user[i+1]
					i++
				}
				break
			}
			out = append(out, x)
		default:
			out = append(out, arg{words: []string{a}, value: a})
		}
	}
	return out
}

// option reports whether x is the long option long or, in a group of short
// options, carries the letter short (0: none).
func (x arg) option(long string, short byte) bool {
	if x.name == long {
		return true
	}
	if short == 0 || len(x.name) < 2 || x.name[0] != '-' || x.name[1] == '-' {
		return false
	}
	return strings.IndexByte(x.name[1:], short) >= 0
}

// verbosity returns the -v count minus the -q count of user (pytest's
// verbosity; --verbosity=N sets it).
func verbosity(user []string) int {
	n := 0
	for _, x := range splitArgs(user) {
		switch {
		case x.name == "--verbose":
			n++
		case x.name == "--quiet":
			n--
		case x.name == "--verbosity":
			v := 0
			for _, c := range x.value {
				if c < '0' || c > '9' {
					break
				}
				v = v*10 + int(c-'0')
			}
			n = v
		case len(x.name) > 1 && x.name[0] == '-' && x.name[1] != '-':
			for _, c := range x.name[1:] {
				switch c {
				case 'v':
					n++
				case 'q':
					n--
				}
			}
		}
	}
	return n
}

// selection are the options that choose which tests run (dropped by
// RerunArgs, which selects by node id itself), and the xdist options (a
// rerun runs one test in one process).
var selection = map[string]bool{
	"-k": true, "--deselect": true, "--lf": true, "--last-failed": true, "--ff": true,
	"--failed-first": true, "--nf": true, "--new-first": true, "--sw": true, "--stepwise": true,
	"--sw-skip": true, "--stepwise-skip": true, "--pyargs": true, "--lfnf": true,
	"--last-failed-no-failures": true, "--hangdog-select": true, "--hangdog-deselect": true,
	"--hangdog-deselect-from": true, "-n": true, "--numprocesses": true, "--dist": true,
	"--tx": true, "--maxprocesses": true, "--max-worker-restart": true, "-d": true,
	"--distload": true, "--looponfail": true, "-f": true,
}

// withoutSelection returns user without its positional arguments and the
// options in selection; a group of short options that holds one of them
// ("-xk expr", "-vn2") loses only that letter and its value.
func withoutSelection(user []string) []string {
	var out []string
	for _, x := range splitArgs(user) {
		if x.name == "" || selection[x.name] {
			continue
		}
		if len(x.name) > 2 && x.name[0] == '-' && x.name[1] != '-' {
			last := x.name[len(x.name)-1]
			if selection["-"+string(last)] && strings.IndexByte(shortValue, last) >= 0 {
				// "-xk expr": keep "-x".
				out = append(out, x.name[:len(x.name)-1])
				continue
			}
			kept := "-"
			for _, c := range x.name[1:] {
				if !selection["-"+string(c)] {
					kept += string(c)
				}
			}
			if kept != "-" {
				out = append(out, kept+strings.TrimPrefix(x.words[0], x.name))
				out = append(out, x.words[1:]...)
			}
			continue
		}
		out = append(out, x.words...)
	}
	return out
}
