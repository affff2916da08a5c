package gotest

import (
	"reflect"
	"testing"
)

func TestGoTestArgs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want []string
	}{
		{nil, []string{"test", "-json", "./..."}},
		{[]string{"./x"}, []string{"test", "-json", "./x"}},
		{[]string{"-json", "./x"}, []string{"test", "-json", "./x"}},
		{[]string{"-run", "TestA"}, []string{"test", "-json", "-run", "TestA", "./..."}},
		{[]string{"-run=TestA", "-v"}, []string{"test", "-json", "-run=TestA", "-v", "./..."}},
		{[]string{"-timeout", "5s", "-args", "x"}, []string{"test", "-json", "-timeout", "5s", "./...", "-args", "x"}},
		{[]string{"-json=false", "."}, []string{"test", "-json", "-json=false", "."}},
		{[]string{"-exec", "env", "-overlay", "o.json", "./p"}, []string{"test", "-json", "-exec", "env", "-overlay", "o.json", "./p"}},
	}
	for _, tc := range cases {
		if got := TestArgs(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("TestArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !Verbose([]string{"-v", "./..."}) || Verbose([]string{"-run", "-v"}) || Verbose([]string{"-args", "-v"}) {
		t.Error("verbose detection wrong")
	}
}

func TestRerunArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		user      []string
		pkg, test string
		want      []string
	}{
		{"bare", nil, "example.com/p", "TestA",
			[]string{"-count=1", "-run", "^TestA$", "example.com/p"}},
		{"subtest anchored element by element", []string{"./..."}, "p", "TestA/sub.1",
			[]string{"-count=1", "-run", `^TestA$/^sub\.1$`, "p"}},
		{"selection, repetition and -json dropped", []string{"-run", "X", "-skip=Y", "-count", "3", "-json", "-race", "./..."}, "p", "TestA",
			[]string{"-race", "-count=1", "-run", "^TestA$", "p"}},
		{"value flags keep their value", []string{"-timeout", "5s", "-tags", "e2e", "./q"}, "p", "TestA",
			[]string{"-timeout", "5s", "-tags", "e2e", "-count=1", "-run", "^TestA$", "p"}},
		{"binary arguments kept last", []string{"-v", "-args", "-run", "x"}, "p", "TestA",
			[]string{"-v", "-count=1", "-run", "^TestA$", "p", "-args", "-run", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := append([]string(nil), tc.user...)
			if got := RerunArgs(tc.user, tc.pkg, tc.test); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("RerunArgs(%q, %q, %q) = %q, want %q", tc.user, tc.pkg, tc.test, got, tc.want)
			}
			if !reflect.DeepEqual(user, tc.user) {
				t.Errorf("RerunArgs changed its input: %q", tc.user)
			}
		})
	}
}

func TestRunner(t *testing.T) {
	t.Parallel()
	var r Runner
	if r.Name() != "go" {
		t.Errorf("Name = %q", r.Name())
	}
	if got, want := r.Command("/usr/bin/go", []string{"-v"}), []string{"/usr/bin/go", "test", "-json", "-v", "./..."}; !reflect.DeepEqual(got, want) {
		t.Errorf("Command = %q, want %q", got, want)
	}
	if !r.Verbose([]string{"-v"}) || r.Verbose(nil) {
		t.Error("Verbose wrong")
	}
	for name, want := range map[string]string{"TestA/sub/x": "TestA/sub", "TestA/sub": "TestA", "TestA": "", "/x": ""} {
		if got, ok := r.Parent(name); got != want || ok != (want != "") {
			t.Errorf("Parent(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

func TestVetOffAndSpeedVariant(t *testing.T) {
	t.Parallel()
	if !VetOff([]string{"-vet=off"}) || !VetOff([]string{"-vet", "off", "./..."}) || VetOff([]string{"-args", "-vet=off"}) || VetOff(nil) {
		t.Error("VetOff wrong")
	}
	if got := SpeedVariant([]string{"-race", "-v", "-covermode=atomic", "-args", "-cover"}); got != "-race -covermode=atomic" {
		t.Errorf("SpeedVariant = %q", got)
	}
}
