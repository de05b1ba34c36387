package webhook

import (
	"strings"
	"testing"
)

func TestParseAdmissionResponse(t *testing.T) {
	for _, tc := range []struct {
		in       string
		mutating bool
		allowed  bool
		err      string
	}{
		{`{"allowed": true}`, false, true, ""},
		{`{"allowed": false, "message": "no"}`, false, false, ""},
		{`{"allowed": true, "warnings": ["w"]}`, false, true, ""},
		{`{"allowed": true, "patch": "W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d"}`, true, true, ""},
		{`{"allowed": true, "patch": "W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d"}`, false, false, "only allowed in a kubernetesMutating hook"},
		{`{"allowed": true, "patch": "bm90IGEgcGF0Y2g="}`, true, false, "not a JSON patch"},
		{`{"allowed": true, "patch": "%%%"}`, true, false, "not base64"},
		{``, false, false, "wrote no admission response"},
		{`{"allowd": true}`, false, false, "unknown field"},
	} {
		resp, err := ParseAdmissionResponse([]byte(tc.in), tc.mutating)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || resp.Allowed != tc.allowed {
			t.Errorf("%s: %+v, %v", tc.in, resp, err)
		}
	}
}

// FuzzAdmissionResponse: any bytes a hook writes give a response or an
// error, never a panic, and an accepted patch is always a JSON patch.
func FuzzAdmissionResponse(f *testing.F) {
	f.Add([]byte(`{"allowed": true}`), true)
	f.Add([]byte(`{"allowed": false, "message": "m", "warnings": ["a"]}`), false)
	f.Add([]byte(`{"allowed": true, "patch": "W10="}`), true)
	f.Fuzz(func(t *testing.T, data []byte, mutating bool) {
		resp, err := ParseAdmissionResponse(data, mutating)
		if err == nil && resp == nil {
			t.Fatal("nil response without an error")
		}
		if err == nil && len(resp.Patch) > 0 && (!mutating || resp.PatchType == nil) {
			t.Fatalf("patch accepted: mutating=%v %+v", mutating, resp)
		}
	})
}
