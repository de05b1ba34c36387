package registry_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func digestsOf(t *testing.T, a *registry.Artifacts) [3]string {
	t.Helper()
	var out [3]string
	b, err := a.Bundle.Digest()
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Release.Digest()
	if err != nil {
		t.Fatal(err)
	}
	x, err := a.Index.Digest()
	if err != nil {
		t.Fatal(err)
	}
	out[0], out[1], out[2] = b.String(), r.String(), x.String()
	return out
}

func TestBuildIsReproducible(t *testing.T) {
	dir := writeModule(t)
	first, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	// A copy of the tree elsewhere, with other mtimes and a group-writable
	// file, must give the same digests.
	other := filepath.Join(t.TempDir(), "elsewhere")
	if out, err := exec.Command("cp", "-r", dir, other).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	later := time.Now().Add(48 * time.Hour)
	_ = filepath.Walk(other, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, later, later) })
	if err := os.Chmod(filepath.Join(other, "values.yaml"), 0o664); err != nil {
		t.Fatal(err)
	}
	second, err := registry.Build(ctx(t), loadModule(t, other), registry.BuildOptions{Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if digestsOf(t, first) != digestsOf(t, second) {
		t.Fatalf("same module built twice gave different digests:\n%v\n%v", digestsOf(t, first), digestsOf(t, second))
	}
	if second.Module != "hello" || second.Version != "v1.2.3" {
		t.Fatalf("module/version = %s/%s, want hello/v1.2.3", second.Module, second.Version)
	}

	// A changed file changes the bundle digest.
	if err := os.WriteFile(filepath.Join(other, "templates", "deployment.yaml"), []byte("kind: StatefulSet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := registry.Build(ctx(t), loadModule(t, other), registry.BuildOptions{Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if digestsOf(t, third)[0] == digestsOf(t, first)[0] {
		t.Fatal("changing a template did not change the bundle digest")
	}
}

func TestBuildRefusesBadVersion(t *testing.T) {
	dir := writeModule(t)
	for _, v := range []string{"", "latest", "1.2", "v1", "1.2.3.4", "v1.2.3+build5", "01.2.3"} {
		_, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: v})
		if err == nil {
			t.Errorf("version %q: accepted, want an error", v)
			continue
		}
		if !strings.Contains(err.Error(), "version") {
			t.Errorf("version %q: error %q does not say what is wrong", v, err)
		}
	}
	got, err := registry.ParseVersion("1.0.0-rc.1")
	if err != nil || got != "v1.0.0-rc.1" {
		t.Fatalf("ParseVersion(1.0.0-rc.1) = %q, %v", got, err)
	}
}

func TestBuildRefusesBadModule(t *testing.T) {
	dir := writeModule(t)
	if err := os.WriteFile(filepath.Join(dir, "module.yaml"), []byte("name: Hello_World\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// One name rule: the loader refuses the name before Build sees it.
	_, err := module.Load(dir)
	if err == nil || !strings.Contains(err.Error(), "Hello_World") || !strings.Contains(err.Error(), "module.yaml") {
		t.Fatalf("bad module name: got %v, want an error naming the name and module.yaml", err)
	}

	dir = writeModule(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "templates", "passwd")); err != nil {
		t.Fatal(err)
	}
	_, err = registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.0.0"})
	if err == nil || !strings.Contains(err.Error(), "templates/passwd") {
		t.Fatalf("symlink out of the module: got %v, want an error naming it", err)
	}

	dir = writeModule(t)
	if err := os.WriteFile(filepath.Join(dir, "changelog.yaml"), []byte("- just\n- a list\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.0.0"})
	if err == nil || !strings.Contains(err.Error(), "changelog.yaml") {
		t.Fatalf("changelog that is not a map: got %v, want an error naming the file", err)
	}
}

func TestModuleNameFallsBackToDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "from-dir")
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := registry.RepositoryName(loadModule(t, dir))
	if err != nil || n != "from-dir" {
		t.Fatalf("RepositoryName = %q, %v; want from-dir", n, err)
	}
}

func TestWriteLayout(t *testing.T) {
	dir := writeModule(t)
	a, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "layout")
	places, err := registry.WriteLayout(out, a, []string{"alpha", "stable"})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range im.Manifests {
		got[d.Annotations[registry.AnnotationRepository]+":"+d.Annotations[registry.AnnotationRefName]] = d.Digest.String()
	}
	d := digestsOf(t, a)
	want := map[string]string{
		"hello:v1.2.3":         d[0],
		"hello/release:v1.2.3": d[1],
		"hello/release:alpha":  d[1],
		"hello/release:stable": d[1],
		":hello":               d[2],
	}
	if len(got) != len(want) || len(places) != len(want) {
		t.Fatalf("layout holds %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("layout %s = %s, want %s", k, got[k], v)
		}
	}
	// The bundle in the layout unpacks to the module tree.
	bundleHash := im.Manifests[0].Digest
	img, err := layout.Path(out).Image(bundleHash)
	if err != nil {
		t.Fatal(err)
	}
	pulled := filepath.Join(t.TempDir(), "tree")
	if err := registry.UnpackImage(img, pulled, registry.UnpackOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	assertTree(t, readTree(t, pulled), expectedBundle("v1.2.3", "{}\n"))

	// A rebuild replaces a previous layout; any other non-empty dir is refused.
	if _, err := registry.WriteLayout(out, a, nil); err != nil {
		t.Fatalf("rewriting a layout: %v", err)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "precious.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.WriteLayout(other, a, nil); err == nil || !strings.Contains(err.Error(), "precious.txt") {
		t.Fatalf("writing into a non-empty dir: %v, want refusal naming what is there", err)
	}
	if _, err := registry.WriteLayout(filepath.Join(t.TempDir(), "x"), a, []string{"nightly"}); err == nil || !strings.Contains(err.Error(), "nightly") {
		t.Fatalf("unknown channel: %v, want refusal naming it", err)
	}
}

func assertTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("missing %s", k)
		} else if g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected file %s", k)
		}
	}
}
