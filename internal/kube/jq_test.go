package kube

import (
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
