package fanout

import (
	"sort"
	"strings"
	"sync"
	"testing"
)

func TestProcessAll(t *testing.T) {
	tests := []struct {
		name  string
		items []string
		want  []string
	}{
		{"empty", nil, nil},
		{"single", []string{"a"}, []string{"A"}},
		{"several", []string{"c", "a", "b"}, []string{"A", "B", "C"}},
		{"blank items", []string{"a", " ", "b"}, []string{"A", "B"}},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			ProcessAll(tt.items, func(s string) {
				mu.Lock()
				got = append(got, strings.ToUpper(s))
				mu.Unlock()
			})
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
