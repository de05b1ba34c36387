package crds

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestGeneratedUpToDate runs hack/generate.sh (controller-gen from the go.mod
// tool block) into a temporary directory and fails if the checked-in CRD YAML
// or deepcopy code differs: the types and what is generated from them must
// be committed together.
func TestGeneratedUpToDate(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to run controller-gen")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(root, "hack", "generate.sh"), out)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GO="+goBin)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/generate.sh %s: %v\n%s", out, err, b)
	}

	var stale []string
	compareDir := func(gen, have, glob string) {
		genFiles, _ := filepath.Glob(filepath.Join(gen, glob))
		haveFiles, _ := filepath.Glob(filepath.Join(have, glob))
		names := map[string]bool{}
		for _, f := range append(genFiles, haveFiles...) {
			names[filepath.Base(f)] = true
		}
		for name := range names {
			g, gerr := os.ReadFile(filepath.Join(gen, name))
			h, herr := os.ReadFile(filepath.Join(have, name))
			rel, _ := filepath.Rel(root, filepath.Join(have, name))
			switch {
			case gerr != nil:
				stale = append(stale, rel+" (no longer generated)")
			case herr != nil:
				stale = append(stale, rel+" (missing)")
			case !bytes.Equal(g, h):
				stale = append(stale, rel)
			}
		}
	}
	compareDir(filepath.Join(out, "crds"), filepath.Join(root, "api", "crds"), "deckhouse.io_*.yaml")
	for _, v := range []string{"v1alpha1", "v1alpha2"} {
		compareDir(filepath.Join(out, v), filepath.Join(root, "api", v), "zz_generated.deepcopy.go")
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		t.Fatalf("generated files are stale: %s\n\nrun `make generate` and commit the result; to see the difference first:\n  bash hack/generate.sh /tmp/gen && diff -r -x '*.go' /tmp/gen/crds api/crds; for v in v1alpha1 v1alpha2; do diff /tmp/gen/$v/zz_generated.deepcopy.go api/$v/; done",
			strings.Join(stale, ", "))
	}
}
