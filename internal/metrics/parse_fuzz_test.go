package metrics

import "testing"

// FuzzParse: any $METRICS_PATH content parses or fails as a whole.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"name":"hook_runs","action":"add","value":1,"labels":{"a":"b"}}`,
		`{"name":"g","action":"set","value":2.5}` + "\n" + `{"group":"grp","action":"expire"}`,
		`{"name":"h","action":"observe","value":0.3,"buckets":[0.1,1]}`,
		`{"name":"bad name","action":"set","value":1}`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := Parse(data)
		if err != nil && len(ops) > 0 {
			t.Fatalf("an error and %d operations", len(ops))
		}
	})
}
