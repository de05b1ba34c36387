package registry_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

// TestBuildRefusesSymlinkedTopDir: a top-level module directory that is a
// symlink used to be left out of the image without a word; now the build
// fails naming it.
func TestBuildRefusesSymlinkedTopDir(t *testing.T) {
	for _, top := range []string{"templates", "openapi", "docs"} {
		t.Run(top, func(t *testing.T) {
			dir := writeModule(t)
			real := filepath.Join(filepath.Dir(dir), "shared-"+top)
			if err := os.Rename(filepath.Join(dir, top), real); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, filepath.Join(dir, top)); err != nil {
				t.Fatal(err)
			}
			_, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.0.0"})
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, top)+" is a symlink") {
				t.Fatalf("build with symlinked %s/: %v, want an error naming it", top, err)
			}
		})
	}
	t.Run("file in place of a directory", func(t *testing.T) {
		dir := writeModule(t)
		if err := os.RemoveAll(filepath.Join(dir, "crds")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "crds"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.0.0"})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "crds")+" is a") {
			t.Fatalf("build with a file named crds: %v, want an error naming it", err)
		}
	})
}
