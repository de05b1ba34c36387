package registry_test

import (
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

// FuzzParseVersion: a version.json or tag version either parses to a
// "v"-prefixed tag that parses to itself, or is refused.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"v1.2.3", "1.2.3", "v1.2.3-rc.1", "v1.2.3+meta", "v01.2.3", "", "stable", "v1.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := registry.ParseVersion(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(v, "v") || strings.Contains(v, "+") {
			t.Fatalf("ParseVersion(%q) = %q", s, v)
		}
		again, err := registry.ParseVersion(v)
		if err != nil || again != v {
			t.Fatalf("ParseVersion(%q) = %q, then %q, %v", s, v, again, err)
		}
	})
}
