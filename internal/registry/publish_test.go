package registry_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// modulesDir holds the test module "hello", a second module "bye", a
// directory without module.yaml and a plain file.
func modulesDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Rename(writeModule(t), filepath.Join(dir, "hello")); err != nil {
		t.Fatal(err)
	}
	testenv.WriteFiles(t, dir, map[string]string{
		"bye/module.yaml":       "name: bye\n",
		"bye/Chart.yaml":        "name: bye\nversion: 0.1.0\n",
		"bye/templates/cm.yaml": "kind: ConfigMap\n",
		"notes/README.md":       "not a module\n",
		"README.md":             "modules\n",
	})
	return dir
}

func TestPublishDir(t *testing.T) {
	source := testenv.Registry(t).Addr + "/dev/modules"
	dir := modulesDir(t)
	res, err := registry.PublishDir(ctx(t), dir, source, "v0.1.0", "stable")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res {
		names = append(names, r.Module+"@"+r.Version)
	}
	if strings.Join(names, ",") != "bye@v0.1.0,hello@v0.1.0" {
		t.Fatalf("published %v", names)
	}
	c := newClient(t)
	mods, err := c.ListModules(ctx(t), source)
	if err != nil || strings.Join(mods, ",") != "bye,hello" {
		t.Fatalf("source lists %v, %v", mods, err)
	}
	tags, err := c.Tags(ctx(t), source, "bye")
	if err != nil || tags.Channels["stable"] != "v0.1.0" {
		t.Fatalf("bye tags %+v, %v", tags, err)
	}

	// Publishing again with other content overwrites the dev version.
	if err := os.WriteFile(filepath.Join(dir, "bye", "templates", "cm.yaml"), []byte("kind: Secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.PublishDir(ctx(t), dir, source, "v0.1.0", "stable"); err != nil {
		t.Fatalf("re-publish: %v", err)
	}
	dest := filepath.Join(t.TempDir(), "bye")
	if _, err := c.Pull(ctx(t), source, "bye", "stable", dest, registry.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, dest)["templates/cm.yaml"]; got != "kind: Secret\n" {
		t.Fatalf("after re-publish the source holds %q", got)
	}

	// A module that cannot be built stops the run with an error naming it;
	// what was pushed before is reported.
	if err := os.WriteFile(filepath.Join(dir, "hello", "module.yaml"), []byte("name: Not_Valid\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = registry.PublishDir(ctx(t), dir, source, "v0.2.0", "")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "hello")) {
		t.Fatalf("broken module: %v, want an error naming its directory", err)
	}
	if len(res) != 1 || res[0].Module != "bye" {
		t.Fatalf("pushed before the error: %+v", res)
	}
	if _, err := registry.PublishDir(ctx(t), filepath.Join(dir, "missing"), source, "v0.1.0", ""); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing dir: %v", err)
	}
}
