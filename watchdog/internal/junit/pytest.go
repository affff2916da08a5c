package junit

import "strings"

// pytestNames gives a pytest node id the classname and name pytest's own
// --junitxml writes: "tests/test_db.py::TestDB::test_lock[sqlite]" is
// classname "tests.test_db.TestDB", name "test_lock[sqlite]" (the file's
// path with dots for slashes and no ".py", then its classes).
func pytestNames(nodeid string) (classname, name string) {
	parts := strings.Split(nodeid, "::")
	// A parametrised id may hold "::" in its brackets: join them back.
	for i := 0; i < len(parts)-1; i++ {
		if strings.Count(parts[i], "[") > strings.Count(parts[i], "]") {
			parts[i] += "::" + parts[i+1]
			parts = append(parts[:i+1], parts[i+2:]...)
			i--
		}
	}
	var kept []string
	for _, p := range parts {
		if p != "()" {
			kept = append(kept, p)
		}
	}
	if len(kept) < 2 {
		return "", nodeid
	}
	file := strings.TrimSuffix(strings.ReplaceAll(kept[0], "/", "."), ".py")
	return strings.Join(append([]string{file}, kept[1:len(kept)-1]...), "."), kept[len(kept)-1]
}
