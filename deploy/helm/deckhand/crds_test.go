package deckhand_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCRDsMatchAPI: the chart's crds/ is a copy of api/crds (the generated
// source of truth), made by `make generate`. A CRD changed, added or removed
// in api/crds without regenerating fails here.
func TestCRDsMatchAPI(t *testing.T) {
	src := filepath.Join("..", "..", "..", "api", "crds")
	dst := "crds"
	names := map[string]bool{}
	for _, dir := range []string{src, dst} {
		files, err := filepath.Glob(filepath.Join(dir, "deckhouse.io_*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			names[filepath.Base(f)] = true
		}
	}
	if len(names) == 0 {
		t.Fatalf("no deckhouse.io_*.yaml in %s or %s", src, dst)
	}
	var stale []string
	for name := range names {
		want, werr := os.ReadFile(filepath.Join(src, name))
		have, herr := os.ReadFile(filepath.Join(dst, name))
		switch {
		case werr != nil:
			stale = append(stale, "deploy/helm/deckhand/crds/"+name+" (not in api/crds)")
		case herr != nil:
			stale = append(stale, "deploy/helm/deckhand/crds/"+name+" (missing)")
		case !bytes.Equal(want, have):
			stale = append(stale, "deploy/helm/deckhand/crds/"+name+" (differs from api/crds)")
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		t.Fatalf("the chart's CRDs are out of date: %s\n\nrun make generate and commit the result", strings.Join(stale, ", "))
	}
}
