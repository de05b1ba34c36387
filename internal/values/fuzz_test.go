package values

import "testing"

func FuzzParsePatch(f *testing.F) {
	f.Add([]byte(`[{"op":"add","path":"/m/a","value":1}]`))
	f.Add([]byte(`{"op":"remove","path":"/m/a"}{"op":"add","path":"/m/b","value":{"x":[1,2]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePatch(EnvValuesJSONPatchPath, data, "m", ScopeModule)
		if err != nil {
			return
		}
		// What parses applies or fails cleanly; it never panics.
		_, _ = p.ApplyLenient("m", map[string]any{})
		_ = p.Compact(p)
	})
}

func FuzzConversion(f *testing.F) {
	f.Add([]byte("version: 2\nconversions:\n  - .b = .a | del(.a)\n"))
	f.Add([]byte("version: 3\nconversions: []\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ParseConversion("v2.yaml", data)
	})
}
