package moduletest

import (
	"path/filepath"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// A module made by `deckhand module init` ships hook tests that pass as
// generated, with a module name other than the committed example's, and the
// committed example passes too.
func TestScaffoldedModuleTestsPass(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "greeter-two")
	if _, err := (&module.Scaffold{Name: "greeter-two", Dir: dir}).Run(); err != nil {
		t.Fatal(err)
	}
	example := filepath.Join("..", "..", "examples", "modules", "hello-world")
	for _, d := range []string{dir, example} {
		rep := runTests(t, d, Test{})
		if rep.Failed != 0 || rep.Passed != 2 {
			t.Errorf("%s: %d passed, %d failed, want 2 passed", d, rep.Passed, rep.Failed)
		}
		for _, c := range rep.Cases {
			if !c.Passed {
				t.Errorf("%s: %s failed: %s%s\n%v", d, c.File, c.Error, c.Diff, c.Output)
			}
		}
	}
}
