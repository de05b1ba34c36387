package values

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePatch(t *testing.T) {
	good := `{"op":"add","path":"/mod/internal/a","value":1}
[{"op":"remove","path":"/mod/x"},{"op":"add","path":"/mod/internal/b","value":{"c":true}}]`
	p, err := ParsePatch(EnvValuesJSONPatchPath, []byte(good), "mod", ScopeModule)
	if err != nil || len(p) != 3 || p[1].Op != "remove" {
		t.Fatalf("ParsePatch = %v, %v", p, err)
	}
	for _, c := range []struct{ in, want string }{
		{`{"op":"replace","path":"/mod/a","value":1}`, `op "replace" is not allowed`},
		{`{"op":"add","path":"/other/a","value":1}`, `outside the module's values`},
		{`{"op":"add","path":"/mod/a"}`, `add needs a value`},
		{`[1]`, `want an object`},
		{`"x"`, `want an operation`},
		{`{"op":`, `invalid JSON`},
	} {
		_, err := ParsePatch(EnvValuesJSONPatchPath, []byte(c.in), "mod", ScopeModule)
		var pe *PatchError
		if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), EnvValuesJSONPatchPath) {
			t.Errorf("%s: err = %v, want %q", c.in, err, c.want)
		}
	}
	g, err := ParsePatch(EnvValuesJSONPatchPath, []byte(`[{"op":"add","path":"/global/a","value":1},{"op":"add","path":"/fooEnabled","value":false}]`), GlobalKey, ScopeGlobal)
	if err != nil {
		t.Fatal(err)
	}
	vals, enabled := g.EnabledOps()
	if len(vals) != 1 || enabled["foo"] == nil || *enabled["foo"] {
		t.Fatalf("EnabledOps = %v %v", vals, enabled)
	}
}

func TestPatchApplyAndCompact(t *testing.T) {
	sec := map[string]any{"internal": map[string]any{}}
	p := Patch{{Op: "add", Path: "/m/internal/a", Value: 1}, {Op: "add", Path: "/m/internal/b", Value: "x"}}
	out, err := p.Apply("m", sec)
	if err != nil || out["internal"].(map[string]any)["b"] != "x" {
		t.Fatalf("Apply = %v, %v", out, err)
	}
	if len(sec["internal"].(map[string]any)) != 0 {
		t.Fatal("Apply modified its input")
	}
	if _, err := (Patch{{Op: "remove", Path: "/m/nope"}}).Apply("m", sec); err == nil {
		t.Fatal("strict remove of a missing path succeeded")
	}
	if _, err := (Patch{{Op: "remove", Path: "/m/nope"}}).ApplyLenient("m", sec); err != nil {
		t.Fatalf("lenient remove: %v", err)
	}
	c := p.Compact(Patch{{Op: "remove", Path: "/m/internal"}, {Op: "add", Path: "/m/internal", Value: map[string]any{"z": true}}})
	if len(c) != 1 || c[0].Path != "/m/internal" || c[0].Op != "add" {
		t.Fatalf("Compact = %v", c)
	}
}

func TestConversionsChain(t *testing.T) {
	dir := t.TempDir()
	conv := filepath.Join(dir, ConversionsDir)
	if err := os.MkdirAll(conv, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(conv, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("v2.yaml", "version: 2\nconversions:\n  - .b = .a | del(.a)\n")
	write("v3.yaml", "version: 3\nconversions:\n  - .c = (.b * 10) | del(.b)\n")
	c, err := LoadConversions(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, v, err := c.Convert(map[string]any{"a": 2}, 1)
	if err != nil || v != 3 || out["c"] == nil {
		t.Fatalf("Convert = %v %d %v", out, v, err)
	}
	if out, v, _ := c.Convert(map[string]any{"c": 1}, 3); v != 3 || out["c"] == nil {
		t.Fatalf("Convert at latest = %v %d", out, v)
	}
	if _, _, err := c.Convert(map[string]any{}, 4); err == nil {
		t.Fatal("a version newer than the chain converted")
	}
	write("v5.yaml", "version: 5\nconversions: []\n")
	if _, err := LoadConversions(dir); err == nil || !strings.Contains(err.Error(), "gap") {
		t.Fatalf("gap: %v", err)
	}
	if err := ParseConversion("v2.yaml", []byte("version: 2\nconversions: ['.a |']\n")); err == nil || !strings.Contains(err.Error(), "conversions[0]") {
		t.Fatalf("bad jq: %v", err)
	}
	// DKP conversion files describe the change (dmt requires it); an
	// unknown key is still an error.
	if err := ParseConversion("v2.yaml", []byte("version: 2\nconversions: [del(.a)]\ndescription:\n  en: Drops a.\n  ru: Удаляет a.\n")); err != nil {
		t.Fatalf("described conversion: %v", err)
	}
	if err := ParseConversion("v2.yaml", []byte("version: 2\nconversions: [del(.a)]\nconversion: []\n")); err == nil {
		t.Fatal("unknown key accepted")
	}
}

// ConvertBetween applies only the steps between two versions.
func TestConvertBetween(t *testing.T) {
	dir := t.TempDir()
	for v, expr := range map[int]string{2: ".b = .a | del(.a)", 3: ".c = .b | del(.b)"} {
		p := filepath.Join(dir, ConversionsDir, fmt.Sprintf("v%d.yaml", v))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("version: %d\nconversions: [%q]\n", v, expr)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := LoadConversions(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to int
		key      string
	}{{1, 2, "b"}, {1, 3, "c"}, {2, 3, "c"}, {2, 2, "b"}} {
		in := map[string]any{map[int]string{1: "a", 2: "b"}[tc.from]: 1} // settings of version from
		out, err := c.ConvertBetween(in, tc.from, tc.to)
		if err != nil || len(out) != 1 || out[tc.key] == nil {
			t.Errorf("%d -> %d: got %v, %v; want only %q", tc.from, tc.to, out, err, tc.key)
		}
	}
	if _, err := c.ConvertBetween(map[string]any{}, 1, 4); err == nil {
		t.Error("converted past the latest version")
	}
}

func TestCELRules(t *testing.T) {
	s, err := ParseSchema("config-values.yaml", []byte(`type: object
properties:
  replicas: {type: integer}
  tier:
    type: object
    properties:
      name: {type: string}
    x-deckhouse-validations:
      - expression: "self.name != 'bad'"
        message: "tier name must not be bad"
x-deckhouse-validations:
  - expression: "self.replicas <= 3"
    message: "at most 3 replicas"
  - expression: "!has(oldSelf.replicas) || self.replicas >= oldSelf.replicas"
    message: "replicas cannot go down"
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateRules(s, map[string]any{"replicas": 2}, nil); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	err = ValidateRules(s, map[string]any{"replicas": 5}, nil)
	var re *RuleError
	if !errors.As(err, &re) || re.Message != "at most 3 replicas" {
		t.Fatalf("err = %v", err)
	}
	if err := ValidateRules(s, map[string]any{"replicas": 1, "tier": map[string]any{"name": "bad"}}, nil); err == nil || !strings.Contains(err.Error(), "tier") {
		t.Fatalf("nested rule: %v", err)
	}
	if err := ValidateRules(s, map[string]any{"replicas": 1}, map[string]any{"replicas": 2}); err == nil || !strings.Contains(err.Error(), "cannot go down") {
		t.Fatalf("transition rule: %v", err)
	}
}
