package registry

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

type recordingTransport struct{ called int }

func (r *recordingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	r.called++
	return nil, errors.New("not sent in this test")
}

// TestPlainHTTPGuard checks the one decision the guard makes; no request
// leaves the process.
func TestPlainHTTPGuard(t *testing.T) {
	cases := []struct {
		url      string
		insecure bool
		pass     bool
	}{
		{"http://10.1.2.3:5000/v2/", false, false},
		{"http://192.168.1.10/v2/", false, false},
		{"http://registry.example.io/v2/", false, false},
		{"http://10.1.2.3:5000/v2/", true, true},
		{"http://127.0.0.1:5000/v2/", false, true},
		{"http://[::1]:5000/v2/", false, true},
		{"http://localhost:5000/v2/", false, true},
		{"https://10.1.2.3:5000/v2/", false, true},
	}
	for _, tc := range cases {
		next := &recordingTransport{}
		req, err := http.NewRequest(http.MethodGet, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := plainHTTPGuard{next: next, allowAll: tc.insecure}.RoundTrip(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		if tc.pass != (next.called == 1) {
			t.Errorf("%s insecure=%v: passed=%v, want %v (err %v)", tc.url, tc.insecure, next.called == 1, tc.pass, err)
		}
		if !tc.pass && (err == nil || !strings.Contains(err.Error(), "--insecure")) {
			t.Errorf("%s: error %v does not point at --insecure", tc.url, err)
		}
	}
}
