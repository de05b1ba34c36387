package lint

import "testing"

// FuzzParseLintConfig: any .dmtlint.yaml parses or fails with an error, never
// a panic, and a parsed one can be applied and checked for ignored settings.
func FuzzParseLintConfig(f *testing.F) {
	for _, s := range []string{
		"linters-settings:\n  container:\n    exclude-rules:\n      liveness-probe:\n        - kind: Deployment\n          name: x\n          container: c\n",
		"linters-settings:\n  openapi:\n    impact: warn\n    exclude-rules:\n      enum: [properties.a.enum]\n",
		"global:\n  linters-settings:\n    templates: {impact: ignored}\n",
		"linters-settings:\n  images: {patches: {disable: true}}\n  templates:\n    rules: {vpa: {impact: warn}}\n",
		"linters-settings: []\n",
		"linters-settings:\n  module: 3\n",
	} {
		f.Add([]byte(s))
	}
	probe := Problem{File: "templates/a.yaml", Linter: LinterContainer, Rule: "liveness-probe", Severity: SeverityError,
		Object: &ObjectRef{Kind: "Deployment", Name: "x", Namespace: "d8-x"}, Container: "c", Key: "properties.a[0]"}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseLintConfig(".dmtlint.yaml", data)
		if err != nil {
			if cfg != nil {
				t.Fatal("a config and an error")
			}
			return
		}
		if cfg == nil {
			t.Fatal("no config and no error")
		}
		cfg.Apply(probe)
		for _, u := range cfg.UnsupportedSettings() {
			if u.Path == "" || u.Linter == "" {
				t.Fatalf("setting without path or linter: %+v", u)
			}
		}
	})
}
