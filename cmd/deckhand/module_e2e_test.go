package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestModuleInitToPull is a module developer's whole loop with the built
// binary, as a user runs it: init → lint → test → build → push → registry
// ls/tags/inspect → registry pull, against Debian's Docker Registry v2 and the
// in-process registry. The pulled tree must be the source tree minus what the
// bundle leaves out (tests/ is not in the modules-template bundle list) plus
// the version.json and images_digests.json the build adds.
func TestModuleInitToPull(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	t.Run("docker-registry", func(t *testing.T) {
		moduleInitToPull(t, bin, testenv.DockerRegistry(t).Addr+"/e2e-init/modules")
	})
	t.Run("in-process", func(t *testing.T) {
		moduleInitToPull(t, bin, testenv.Registry(t).Addr+"/modules")
	})
}

func moduleInitToPull(t *testing.T, bin, source string) {
	const name, version = "init-e2e", "v0.1.0"
	dir := filepath.Join(t.TempDir(), name)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("deckhand %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	run("module", "init", name, "--dir", dir)
	srcTree := treeOf(t, dir)

	var lint struct{ Problems []struct{ Rule string } }
	decode(t, run("module", "lint", dir, "-o", "json"), &lint)
	if len(lint.Problems) != 0 {
		t.Fatalf("a freshly generated module has lint problems: %v", lint.Problems)
	}

	var tests struct {
		Cases []struct {
			File   string
			Passed bool
		}
		Passed, Failed int
	}
	decode(t, run("module", "test", dir, "-o", "json"), &tests)
	if tests.Failed != 0 || tests.Passed == 0 || tests.Passed != len(tests.Cases) {
		t.Fatalf("module test: %+v", tests)
	}

	var build struct {
		Artifacts []struct{ Repository, Tag, Digest string }
	}
	decode(t, run("module", "build", dir, "--version", version, "-d", filepath.Join(t.TempDir(), "layout"), "-o", "json"), &build)
	var builtBundle string
	for _, a := range build.Artifacts {
		if a.Repository == name && a.Tag == version {
			builtBundle = a.Digest
		}
	}
	if builtBundle == "" {
		t.Fatalf("build wrote no %s:%s bundle: %+v", name, version, build.Artifacts)
	}

	run("module", "push", dir, "--repo", source, "--version", version, "--channel", "stable")

	var ls struct{ Modules []string }
	decode(t, run("registry", "ls", source, "-o", "json"), &ls)
	if strings.Join(ls.Modules, ",") != name {
		t.Fatalf("registry ls %s: %v, want [%s]", source, ls.Modules, name)
	}
	var tags struct {
		Versions []struct {
			Version         string
			Bundle, Release bool
		}
		Channels map[string]string
	}
	decode(t, run("registry", "tags", source, name, "-o", "json"), &tags)
	if len(tags.Versions) != 1 || tags.Versions[0].Version != version || !tags.Versions[0].Bundle || !tags.Versions[0].Release ||
		len(tags.Channels) != 1 || tags.Channels["stable"] != version {
		t.Fatalf("registry tags: %+v", tags)
	}
	var info struct{ Bundle struct{ Digest string } }
	decode(t, run("registry", "inspect", source, name, "stable", "-o", "json"), &info)
	if info.Bundle.Digest != builtBundle {
		t.Fatalf("pushed bundle %s differs from the one `module build` made from the same tree (%s)", info.Bundle.Digest, builtBundle)
	}

	pulled := filepath.Join(t.TempDir(), "pulled")
	run("registry", "pull", source, name, "stable", "-d", pulled)

	if got := treeOf(t, dir); !equalTrees(got, srcTree) {
		t.Fatal("lint, test, build or push changed the source tree")
	}
	compareBundle(t, srcTree, treeOf(t, pulled), version)
}

// treeFile is one regular file of a tree: its content and exec bit.
type treeFile struct {
	content string
	exec    bool
}

// treeOf reads every regular file under dir (hidden ones included) by slash
// path; any other kind of entry fails the test.
func treeOf(t *testing.T, dir string) map[string]treeFile {
	t.Helper()
	out := map[string]treeFile{}
	for rel, f := range testenv.ReadFiles(t, dir) {
		out[rel] = treeFile{content: f.Content, exec: f.Executable()}
	}
	return out
}

func equalTrees(a, b map[string]treeFile) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// compareBundle checks pulled == source − tests/ + version.json +
// images_digests.json, file by file (content and exec bit).
func compareBundle(t *testing.T, source, pulled map[string]treeFile, version string) {
	t.Helper()
	want := map[string]treeFile{}
	var left []string
	for rel, f := range source {
		if rel == ".dmtlint.yaml" {
			continue // linter settings stay with the source, as in DKP's module images
		}
		if strings.HasPrefix(rel, "tests/") {
			left = append(left, rel)
			continue
		}
		want[rel] = f
	}
	if len(left) == 0 {
		t.Fatal("the generated module has no tests/ files: the bundle exclusion is not exercised")
	}
	for _, rel := range left {
		if _, ok := pulled[rel]; ok {
			t.Errorf("%s was published: tests/ is not part of the module image", rel)
		}
	}

	var v map[string]any
	if err := json.Unmarshal([]byte(pulled["version.json"].content), &v); err != nil || len(v) != 1 || v["version"] != version {
		t.Errorf("pulled version.json = %q (%v), want {\"version\":%q}", pulled["version.json"].content, err, version)
	}
	var digests map[string]any
	if err := json.Unmarshal([]byte(pulled["images_digests.json"].content), &digests); err != nil || digests == nil || len(digests) != 0 {
		t.Errorf("pulled images_digests.json = %q (%v), want {} for a module without images", pulled["images_digests.json"].content, err)
	}
	for _, added := range []string{"version.json", "images_digests.json"} {
		if _, inSource := source[added]; inSource {
			t.Fatalf("the generated module already has %s", added)
		}
		if f, ok := pulled[added]; !ok || f.exec {
			t.Errorf("pulled %s: present %v, executable %v", added, ok, f.exec)
		}
	}

	var missing, extra, differ []string
	for rel, w := range want {
		g, ok := pulled[rel]
		switch {
		case !ok:
			missing = append(missing, rel)
		case g.content != w.content:
			differ = append(differ, rel+" (content)")
		case g.exec != w.exec:
			differ = append(differ, rel+" (exec bit)")
		}
	}
	for rel := range pulled {
		if _, ok := want[rel]; !ok && rel != "version.json" && rel != "images_digests.json" {
			extra = append(extra, rel)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(differ)
	if len(missing)+len(extra)+len(differ) > 0 {
		t.Fatalf("pulled tree vs source tree: missing %v, not in source %v, differ %v", missing, extra, differ)
	}
	if !pulled["hooks/banner.sh"].exec {
		t.Fatal("the pulled hook is not executable")
	}
}
