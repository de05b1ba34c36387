package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJQFilterSerialization pins the filterResult format to shell-operator's:
// compact JSON with sorted keys and HTML escaping, null for no output, an
// array for several outputs, unstructured int64 accepted.
func TestJQFilterSerialization(t *testing.T) {
	obj := map[string]any{
		"metadata": map[string]any{"name": "a", "generation": int64(3)},
		"data":     map[string]any{"z": "<&>", "a": "1"},
		"list":     []any{int64(1), int64(2)},
	}
	cases := map[string]string{
		".data":                      `{"a":"1","z":"\u003c\u0026\u003e"}`,
		".metadata.generation + 1":   `4`,
		".list[]":                    `[1,2]`,
		"empty":                      `null`,
		".missing":                   `null`,
		`{n: .metadata.name}, "x"`:   `[{"n":"a"},"x"]`,
		`.metadata.name | halt`:      `null`,
		`.list | map(. * 10) | add`:  `30`,
		`.metadata | keys`:           `["generation","name"]`,
		`.data.a | tonumber | . / 2`: `0.5`,
	}
	for src, want := range cases {
		p, err := compileJQ(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := p.filter(obj)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if string(got) != want {
			t.Errorf("%s: got %s, want %s", src, got, want)
		}
	}
	p, _ := compileJQ(".data.z | tonumber")
	if _, err := p.filter(obj); err == nil || !strings.Contains(err.Error(), `jq ".data.z | tonumber"`) {
		t.Errorf("jq runtime error: got %v", err)
	}
	if _, err := compileJQ(".a |||"); err == nil {
		t.Error("bad jq compiled")
	}
}

func TestJQLibraryPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "names.jq"), []byte(`def full: .metadata.namespace + "/" + .metadata.name;`), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `import "names" as n; n::full`
	if _, err := compileJQ(src); err == nil {
		t.Fatal("module found without a library path")
	}
	p, err := compileJQ(src, dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.filter(map[string]any{"metadata": map[string]any{"namespace": "ns", "name": "a"}})
	if err != nil || string(got) != `"ns/a"` {
		t.Fatalf("got %s, %v", got, err)
	}
	spec := WatchSpec{Name: "lib", Kind: "ConfigMap", JqFilter: src}
	if _, err := NewMonitor(nil, spec, nil); err == nil {
		t.Error("NewMonitor compiled a filter importing an unknown module")
	}
	if _, err := NewMonitor(nil, spec, nil, WithJQLibraryPath(dir)); err != nil {
		t.Error(err)
	}
}
