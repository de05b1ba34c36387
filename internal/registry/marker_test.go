package registry_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

// TestPullMarker: a pull records itself next to the tree (the tree stays the
// image's content); a non-empty directory deckhand did not pull (a checkout
// of the module, a home directory, a reused name) is refused and left as it
// was; an empty directory, a pulled tree and Force are replaced.
func TestPullMarker(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		c := newClient(t)
		dir := writeModule(t)
		a, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Push(ctx(t), source, a, registry.PushOptions{}); err != nil {
			t.Fatal(err)
		}

		// Pulling into the module's own checkout must not delete it.
		before := readTree(t, dir)
		_, err = c.Pull(ctx(t), source, "hello", "v1.0.0", dir, registry.PullOptions{})
		var np *registry.NotPulledError
		if !errors.As(err, &np) || !strings.Contains(err.Error(), dir+" is not a directory deckhand pulled") {
			t.Fatalf("pull into a checkout: %v, want *NotPulledError naming %s", err, dir)
		}
		assertTree(t, readTree(t, dir), before)
		if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
			t.Fatalf("temp files left next to the checkout: %v", entries)
		}

		// An empty directory is fine; the marker next to it says what was pulled.
		dest := filepath.Join(t.TempDir(), "hello")
		if err := os.Mkdir(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		pr, err := c.Pull(ctx(t), source, "hello", "v1.0.0", dest, registry.PullOptions{})
		if err != nil {
			t.Fatal(err)
		}
		assertTree(t, readTree(t, dest), expectedBundle("v1.0.0", "{}\n"))
		m, err := registry.ReadPullMarker(dest)
		if err != nil {
			t.Fatal(err)
		}
		if m.Source != pr.Source || m.Module != "hello" || m.Version != "v1.0.0" || m.Digest != pr.Digest || !strings.HasSuffix(m.Source, "/modules") {
			t.Fatalf("marker %+v for pull %+v", m, pr)
		}
		if registry.PullMarkerPath(dest) != filepath.Join(filepath.Dir(dest), ".hello.deckhand-pull.json") {
			t.Fatalf("marker at %s", registry.PullMarkerPath(dest))
		}
		// A tree deckhand pulled is replaced as a whole, local edits and all.
		if err := os.WriteFile(filepath.Join(dest, "local-edit.txt"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Pull(ctx(t), source, "hello", "v1.0.0", dest, registry.PullOptions{}); err != nil {
			t.Fatalf("pull over a pulled tree: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dest, "local-edit.txt")); !os.IsNotExist(err) {
			t.Fatalf("pulled tree not replaced as a whole: %v", err)
		}

		// The tree deleted and the name reused (the inode number may well be
		// reused too): the stale marker does not count.
		if err := os.RemoveAll(dest); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dest, "mine"), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Pull(ctx(t), source, "hello", "v1.0.0", dest, registry.PullOptions{}); !errors.As(err, &np) {
			t.Fatalf("pull over a new directory with a stale marker: %v, want *NotPulledError", err)
		}
		if _, err := os.Stat(filepath.Join(dest, "mine")); err != nil {
			t.Fatalf("refused pull touched the directory: %v", err)
		}

		// Force replaces an unmarked directory.
		if _, err := c.Pull(ctx(t), source, "hello", "v1.0.0", dir, registry.PullOptions{Force: true}); err != nil {
			t.Fatalf("forced pull: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "werf.yaml")); !os.IsNotExist(err) {
			t.Fatalf("forced pull kept the old tree: %v", err)
		}
		if _, err := registry.ReadPullMarker(dir); err != nil {
			t.Fatal(err)
		}
	})
}
