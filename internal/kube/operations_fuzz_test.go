package kube

import "testing"

// FuzzParseOperations: any $KUBERNETES_PATCH_PATH content parses into
// operations or fails as a whole, never panics.
func FuzzParseOperations(f *testing.F) {
	for _, s := range []string{
		`{"operation":"Create","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"d"}}}`,
		"operation: Delete\nkind: ConfigMap\nnamespace: d\nname: a\n---\noperation: DeleteInBackground\nkind: Pod\nname: b\n",
		`{"operation":"JQPatch","kind":"ConfigMap","namespace":"d","name":"a","jqFilter":".data.x = \"y\""}`,
		`{"operation":"MergePatch","kind":"ConfigMap","name":"a","mergePatch":{"data":{"k":"v"}}}`,
		`{"operation":"JSONPatch","kind":"ConfigMap","name":"a","jsonPatch":[{"op":"add","path":"/data/k","value":"v"}]}`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := ParseOperations(data)
		if err != nil && len(ops) > 0 {
			t.Fatalf("an error and %d operations: a malformed file must apply nothing", len(ops))
		}
	})
}
