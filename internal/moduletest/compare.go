package moduletest

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	yaml "go.yaml.in/yaml/v3"
)

// expectKeys are the expect fields in the order they are compared, shown
// and written. The optional ones are compared only when the case has them.
var expectKeys = []struct {
	key      string
	optional bool
	get      func(*Expect) any
}{
	{"valuesPatch", false, func(e *Expect) any { return e.ValuesPatch }},
	{"configValuesPatch", false, func(e *Expect) any { return e.ConfigValuesPatch }},
	{"values", true, func(e *Expect) any { return e.Values }},
	{"operations", false, func(e *Expect) any { return e.Operations }},
	{"metrics", false, func(e *Expect) any { return e.Metrics }},
	{"bindingContext", true, func(e *Expect) any { return e.BindingContext }},
	{"manifests", true, func(e *Expect) any { return e.Manifests }},
}

// compare returns a readable expected-vs-actual diff, or "" when actual
// meets the expectations.
func compare(want, got *Expect) string {
	var b strings.Builder
	switch {
	case want.Error == "" && got.Error != "":
		fmt.Fprintf(&b, "error: the hook run failed, the case expects success:\n    %s\n", indent(got.Error))
	case want.Error != "" && got.Error == "":
		fmt.Fprintf(&b, "error: the case expects a failure containing %q, the hook run succeeded\n", want.Error)
	case want.Error != "" && !strings.Contains(got.Error, want.Error):
		fmt.Fprintf(&b, "error: want a failure containing %q, got:\n    %s\n", want.Error, indent(got.Error))
	}
	for _, k := range expectKeys {
		if k.optional && !want.has[k.key] {
			continue
		}
		if got.Error != "" && k.key != "bindingContext" {
			// A failed run applies nothing; only the error is compared.
			continue
		}
		w, err := plain(k.get(want))
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", k.key, err)
			continue
		}
		g, err := plain(k.get(got))
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", k.key, err)
			continue
		}
		if equal(w, g) {
			continue
		}
		b.WriteString(unified(k.key, w, g))
	}
	return b.String()
}

// equal compares plain values; an empty list and a missing one are equal.
func equal(a, b any) bool {
	if empty(a) && empty(b) {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func empty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case []any:
		return len(t) == 0
	}
	return false
}

// unified renders {key: want} and {key: got} as YAML and diffs them.
func unified(key string, want, got any) string {
	if empty(want) {
		want = []any{}
	}
	if empty(got) {
		got = []any{}
	}
	a, b := yamlText(map[string]any{key: want}), yamlText(map[string]any{key: got})
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(a),
		B:        difflib.SplitLines(b),
		FromFile: "expected",
		ToFile:   "actual",
		Context:  3,
	})
	if err != nil || diff == "" {
		return fmt.Sprintf("%s differs:\n--- expected\n%s+++ actual\n%s", key, a, b)
	}
	return key + " differs:\n" + strings.TrimRight(diff, "\n ") + "\n"
}

// yamlText renders v as YAML indented by two spaces, as case files are.
func yamlText(v any) string {
	var buf strings.Builder
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v\n", v)
	}
	_ = enc.Close()
	return buf.String()
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }
