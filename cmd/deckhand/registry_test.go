package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/deckhand-dev/deckhand/internal/localenv"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// runDeckhand runs the CLI in-process and returns stdout, stderr and the error.
func runDeckhand(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := newRootCommand()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return stdout.String(), stderr.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := runDeckhand(t, args...)
	if err != nil {
		t.Fatalf("deckhand %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decoding %q: %v", s, err)
	}
}

// publishRegistries runs f against the in-process registry and a Docker
// Registry v2 started for this test.
func publishRegistries(t *testing.T, f func(t *testing.T, host string)) {
	t.Run("in-process", func(t *testing.T) { f(t, testenv.Registry(t).Addr) })
	t.Run("docker-registry", func(t *testing.T) {
		r, err := localenv.StartDockerRegistry(context.Background(), localenv.DockerRegistryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Stop() })
		f(t, r.Addr)
	})
}

func writeCLIModule(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "greeter")
	files := map[string]string{
		"module.yaml":                "name: greeter\n",
		"Chart.yaml":                 "name: greeter\nversion: 0.1.0\n",
		"templates/cm.yaml":          "kind: ConfigMap\n",
		"openapi/config-values.yaml": "type: object\n",
		"hooks/hello.sh":             "#!/bin/sh\n",
		"images/greeter/Dockerfile":  "FROM scratch\n",
		"changelog.yaml":             "fixes:\n  - typo\n",
	}
	testenv.WriteFiles(t, dir, files)
	return dir
}

func TestModuleBuildCLI(t *testing.T) {
	dir := writeCLIModule(t)
	var first, second struct {
		Module    string
		Version   string
		Artifacts []struct{ Repository, Tag, Digest string }
	}
	layoutA := filepath.Join(t.TempDir(), "a")
	decode(t, mustRun(t, "module", "build", dir, "--version", "1.0.0", "-d", layoutA, "-o", "json"), &first)
	if _, err := os.Stat(filepath.Join(layoutA, "oci-layout")); err != nil {
		t.Fatalf("no OCI layout written: %v", err)
	}
	decode(t, mustRun(t, "module", "build", dir, "--version", "v1.0.0", "-d", filepath.Join(t.TempDir(), "b"), "-o", "json"), &second)
	if first.Module != "greeter" || first.Version != "v1.0.0" || len(first.Artifacts) != 3 {
		t.Fatalf("build output %+v", first)
	}
	for i := range first.Artifacts {
		if first.Artifacts[i] != second.Artifacts[i] {
			t.Fatalf("two builds differ: %+v vs %+v", first.Artifacts[i], second.Artifacts[i])
		}
	}

	_, _, err := runDeckhand(t, "module", "build", dir, "--version", "latest")
	if err == nil || !strings.Contains(err.Error(), `"latest"`) || !strings.Contains(err.Error(), "semver") {
		t.Fatalf("non-semver version: %v", err)
	}
	_, _, err = runDeckhand(t, "module", "build", dir, "--version", "v1.0.0", "--image", "nonsense")
	if err == nil || !strings.Contains(err.Error(), "NAME=REF") {
		t.Fatalf("bad --image: %v", err)
	}
}

func TestModulePushAndRegistryCLI(t *testing.T) {
	publishRegistries(t, func(t *testing.T, host string) {
		source := host + "/acme/modules"
		dir := writeCLIModule(t)

		app, err := random.Image(2048, 1)
		if err != nil {
			t.Fatal(err)
		}
		appRef := host + "/ci/greeter-app:build-7"
		ref, _ := name.ParseReference(appRef)
		if err := remote.Write(ref, app); err != nil {
			t.Fatal(err)
		}
		appDigest, _ := app.Digest()
		imagesFile := filepath.Join(t.TempDir(), "images.yaml")
		if err := os.WriteFile(imagesFile, []byte("greeter-app: "+appRef+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}

		out, errOut, err := runDeckhand(t, "module", "push", dir, "--repo", source, "--version", "v1.0.0",
			"--channel", "alpha", "--images-file", imagesFile, "--progress", "-o", "json")
		if err != nil {
			t.Fatalf("push: %v\n%s", err, errOut)
		}
		var pushed struct {
			Unchanged bool
			Images    map[string]string
		}
		decode(t, out, &pushed)
		if pushed.Unchanged || pushed.Images["greeterApp"] != source+"/greeter@"+appDigest.String() {
			t.Fatalf("push result %s", out)
		}
		if !strings.Contains(errOut, "pushing greeter v1.0.0") {
			t.Fatalf("no progress bar on stderr: %q", errOut)
		}

		var ls struct{ Modules []string }
		decode(t, mustRun(t, "registry", "ls", source, "-o", "json"), &ls)
		if len(ls.Modules) != 1 || ls.Modules[0] != "greeter" {
			t.Fatalf("ls: %+v", ls)
		}
		if table := mustRun(t, "registry", "ls", source); !strings.Contains(table, "greeter") {
			t.Fatalf("ls table: %q", table)
		}

		mustRun(t, "registry", "channel", source, "greeter", "stable", "v1.0.0")
		yamlOut := mustRun(t, "registry", "tags", source, "greeter", "-o", "yaml")
		if !strings.Contains(yamlOut, "stable: v1.0.0") || !strings.Contains(yamlOut, "alpha: v1.0.0") {
			t.Fatalf("tags yaml: %s", yamlOut)
		}

		var info struct {
			Version       string
			ImagesDigests map[string]string
			Changelog     map[string]any
			Channels      []string
			Bundle        struct {
				Digest string
				Size   int64
			}
		}
		decode(t, mustRun(t, "registry", "inspect", source, "greeter", "stable", "-o", "json"), &info)
		if info.Version != "v1.0.0" || info.ImagesDigests["greeterApp"] != appDigest.String() || info.Changelog["fixes"] == nil ||
			strings.Join(info.Channels, ",") != "alpha,stable" || info.Bundle.Size == 0 {
			t.Fatalf("inspect: %+v", info)
		}

		dest := filepath.Join(t.TempDir(), "pulled")
		mustRun(t, "registry", "pull", source, "greeter", "v1.0.0", "-d", dest)
		for rel, want := range map[string]string{
			"module.yaml":       "name: greeter\n",
			"templates/cm.yaml": "kind: ConfigMap\n",
			"hooks/hello.sh":    "#!/bin/sh\n",
			"version.json":      `{"version":"v1.0.0"}`,
		} {
			got, err := os.ReadFile(filepath.Join(dest, rel))
			if err != nil || string(got) != want {
				t.Errorf("pulled %s = %q, %v; want %q", rel, got, err, want)
			}
		}
		if _, err := os.Stat(filepath.Join(dest, "images")); !os.IsNotExist(err) {
			t.Errorf("build-only images/ was published: %v", err)
		}
		if fi, err := os.Stat(filepath.Join(dest, "hooks/hello.sh")); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("hook lost its exec bit: %v %v", fi, err)
		}

		// Same content again: success, unchanged. Other content: refused without --force.
		decode(t, mustRun(t, "module", "push", dir, "--repo", source, "--version", "v1.0.0", "--images-file", imagesFile, "-o", "json"), &pushed)
		if !pushed.Unchanged {
			t.Fatal("re-push of the same content was not a no-op")
		}
		if err := os.WriteFile(filepath.Join(dir, "templates/cm.yaml"), []byte("kind: Secret\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err = runDeckhand(t, "module", "push", dir, "--repo", source, "--version", "v1.0.0")
		if err == nil || !strings.Contains(err.Error(), "--force") {
			t.Fatalf("overwrite without --force: %v", err)
		}
		mustRun(t, "module", "push", dir, "--repo", source, "--version", "v1.0.0", "--force")
		mustRun(t, "registry", "pull", source, "greeter", "alpha", "-d", dest)
		if got, _ := os.ReadFile(filepath.Join(dest, "templates/cm.yaml")); string(got) != "kind: Secret\n" {
			t.Fatalf("after --force, pulled %q", got)
		}

		_, _, err = runDeckhand(t, "registry", "pull", source, "greeter", "v1.0.0", "-d", dest, "--max-file-size", "4")
		if err == nil || !strings.Contains(err.Error(), "per-file limit") {
			t.Fatalf("pull over --max-file-size: %v", err)
		}
		if got, _ := os.ReadFile(filepath.Join(dest, "templates/cm.yaml")); string(got) != "kind: Secret\n" {
			t.Fatalf("a refused pull changed the target: %q", got)
		}

		_, _, err = runDeckhand(t, "module", "push", dir, "--repo", source, "--version", "1.0")
		if err == nil || !strings.Contains(err.Error(), "semver") {
			t.Fatalf("non-semver push: %v", err)
		}
		_, _, err = runDeckhand(t, "registry", "channel", source, "greeter", "nightly", "v1.0.0")
		if err == nil || !strings.Contains(err.Error(), "nightly") {
			t.Fatalf("unknown channel: %v", err)
		}
	})
}

func TestModulePushLayoutCLI(t *testing.T) {
	publishRegistries(t, func(t *testing.T, host string) {
		source := host + "/ci/modules"
		dir := writeCLIModule(t)
		layout := filepath.Join(t.TempDir(), "out")
		mustRun(t, "module", "build", dir, "--version", "v3.1.0", "--channel", "rock-solid", "-d", layout)
		var pushed struct {
			Version   string
			Artifacts []struct{ Repository, Tag string }
		}
		decode(t, mustRun(t, "module", "push", "--layout", layout, "--repo", source, "-o", "json"), &pushed)
		if pushed.Version != "v3.1.0" || len(pushed.Artifacts) != 4 {
			t.Fatalf("push --layout: %+v", pushed)
		}
		if out := mustRun(t, "registry", "tags", source, "greeter"); !strings.Contains(out, "rock-solid") {
			t.Fatalf("tags after push --layout: %s", out)
		}
		_, _, err := runDeckhand(t, "module", "push", dir, "--layout", layout, "--repo", source)
		if err == nil || !strings.Contains(err.Error(), "--layout") {
			t.Fatalf("DIR with --layout: %v", err)
		}
		_, _, err = runDeckhand(t, "module", "push", "--layout", layout, "--repo", source, "--version", "v9.0.0")
		if err == nil || !strings.Contains(err.Error(), "v3.1.0") {
			t.Fatalf("--version not matching the layout: %v", err)
		}
		_, _, err = runDeckhand(t, "module", "push", dir, "--repo", source)
		if err == nil || !strings.Contains(err.Error(), "--version") {
			t.Fatalf("push without --version: %v", err)
		}
	})
}

// TestRegistryPullKeepsCheckoutCLI: `registry pull` with the default --dir
// (./MODULE) run next to a checkout of the module refuses to replace it.
func TestRegistryPullKeepsCheckoutCLI(t *testing.T) {
	source := testenv.DockerRegistry(t).Addr + "/pullguard/modules"
	dir := writeCLIModule(t)
	mustRun(t, "module", "push", dir, "--repo", source, "--version", "v1.0.0")
	t.Chdir(filepath.Dir(dir))

	_, _, err := runDeckhand(t, "registry", "pull", source, "greeter", "v1.0.0")
	if err == nil || !strings.Contains(err.Error(), dir+" is not a directory deckhand pulled") || !strings.HasSuffix(err.Error(), "; pass --force to replace it") {
		t.Fatalf("pull over the checkout: %v", err)
	}
	for _, rel := range []string{"images/greeter/Dockerfile", "changelog.yaml", "module.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			t.Fatalf("checkout lost %s: %v", rel, err)
		}
	}

	mustRun(t, "registry", "pull", source, "greeter", "v1.0.0", "--force")
	if _, err := os.Stat(filepath.Join(dir, "images")); !os.IsNotExist(err) {
		t.Fatalf("--force did not replace the directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".deckhand-pull.json")); !os.IsNotExist(err) {
		t.Fatalf("the pull marker is inside the tree: %v", err)
	}
	marker, err := os.ReadFile(filepath.Join(filepath.Dir(dir), ".greeter.deckhand-pull.json"))
	if err != nil || !strings.Contains(string(marker), `"version": "v1.0.0"`) {
		t.Fatalf("marker after pull: %s, %v", marker, err)
	}
	// A pulled tree is replaced without --force.
	mustRun(t, "registry", "pull", source, "greeter", "v1.0.0")
}

// TestHelpGroupsAndModuleSubcommands: root --help lists its groups in
// workflow order, and `module` carries build and push without root's help.
func TestHelpGroupsAndModuleSubcommands(t *testing.T) {
	help := mustRun(t, "--help")
	last := -1
	for _, title := range []string{"Module development:", "Publishing:", "Hooks", "Local environment:"} {
		i := strings.Index(help, "\n"+title)
		if i < 0 || i < last {
			t.Fatalf("group %q missing or out of order in:\n%s", title, help)
		}
		last = i
	}
	mod := newModuleCommand()
	for _, sub := range []string{"build", "push"} {
		if c, _, err := mod.Find([]string{sub}); err != nil || c.Name() != sub {
			t.Fatalf("module command lacks %s: %v", sub, err)
		}
	}
}

// TestModulePushValidatesModuleCLI: push (and build) load the module first,
// so a broken module.yaml is refused with the loader's error and nothing is
// published.
func TestModulePushValidatesModuleCLI(t *testing.T) {
	source := testenv.Registry(t).Addr + "/acme/modules"
	dir := writeCLIModule(t)
	if err := os.WriteFile(filepath.Join(dir, "module.yaml"), []byte("name: greeter\nstage: Nightly\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"module", "push", dir, "--repo", source, "--version", "v1.0.0"},
		{"module", "build", dir, "--version", "v1.0.0", "-d", filepath.Join(t.TempDir(), "layout")},
	} {
		_, _, err := runDeckhand(t, args...)
		if err == nil || !strings.Contains(err.Error(), "module.yaml") || !strings.Contains(err.Error(), "stage") || !strings.Contains(err.Error(), "Nightly") {
			t.Fatalf("%s with a broken module.yaml: %v, want the loader's error naming module.yaml and stage", args[1], err)
		}
	}
	_, _, err := runDeckhand(t, "registry", "tags", source, "greeter")
	if err == nil {
		t.Fatal("a refused push published the module")
	}
}
