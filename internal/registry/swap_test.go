package registry_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

// twoTrees makes a finished tmp tree (file "new") and an existing dest (file "old").
func twoTrees(t *testing.T) (tmp, dest string) {
	t.Helper()
	base := t.TempDir()
	tmp, dest = filepath.Join(base, ".m.unpack-1"), filepath.Join(base, "m")
	for dir, file := range map[string]string{tmp: "new", dest: "old"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tmp, dest
}

// TestSwapSucceedsWhenOldTreeStays: once the new tree is in place, failing to
// remove the previous one is not a failure of the swap.
func TestSwapSucceedsWhenOldTreeStays(t *testing.T) {
	noExchange := func(_, _ string) error { return errors.New("no exchange here") }
	exchangers := map[string]func(a, b string) error{"exchange": nil, "two renames": noExchange}
	for name, exchange := range exchangers {
		t.Run(name, func(t *testing.T) {
			tmp, dest := twoTrees(t)
			if exchange == nil {
				exchange = func(a, b string) error {
					// a real exchange done by hand: three renames through a side name
					side := a + ".side"
					for _, mv := range [][2]string{{a, side}, {b, a}, {side, b}} {
						if err := os.Rename(mv[0], mv[1]); err != nil {
							return err
						}
					}
					return nil
				}
			}
			var removed string
			failRemove := func(p string) error { removed = p; return errors.New("device busy") }
			if err := registry.SwapDirWith(tmp, dest, exchange, failRemove); err != nil {
				t.Fatalf("swap reported %v although the new tree is in place", err)
			}
			if got, err := os.ReadFile(filepath.Join(dest, "new")); err != nil || string(got) != "new" {
				t.Fatalf("dest does not hold the new tree: %q %v", got, err)
			}
			if got, err := os.ReadFile(filepath.Join(removed, "old")); err != nil || string(got) != "old" {
				t.Fatalf("removal was asked for %s, which is not the previous tree: %v", removed, err)
			}
		})
	}
}

// TestSwapFallbackRestoresOnFailure: without an exchange, a failed move of
// the new tree puts the previous one back.
func TestSwapFallbackRestoresOnFailure(t *testing.T) {
	tmp, dest := twoTrees(t)
	if err := os.RemoveAll(tmp); err != nil { // the new tree vanished: the second rename fails
		t.Fatal(err)
	}
	err := registry.SwapDirWith(tmp, dest, func(_, _ string) error { return errors.New("no exchange") }, os.RemoveAll)
	if err == nil {
		t.Fatal("swap of a missing tree succeeded")
	}
	if got, err := os.ReadFile(filepath.Join(dest, "old")); err != nil || string(got) != "old" {
		t.Fatalf("previous tree not restored: %q %v", got, err)
	}
}
