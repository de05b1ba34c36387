package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/deckhand-dev/deckhand/internal/hookserver"
	"github.com/deckhand-dev/deckhand/internal/testenv"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// BenchmarkAdmissionRoundTrip sends 1,000 AdmissionReviews, one at a time,
// over HTTPS to `hooks serve`'s admission server, whose validating hook is
// bash + jq (it reads the object's image and allows it); the floor, in the
// same run, is the same requests against a webhook that answers in Go
// without a hook. Reported: p50 and p99 latency of each.
func BenchmarkAdmissionRoundTrip(b *testing.B) {
	const n = 1000
	cp := testenv.ControlPlane(b)
	dir := b.TempDir()
	hookSrc := `#!/usr/bin/env bash
if [[ "${1:-}" == "--config" ]]; then
  echo '{"configVersion":"v1","kubernetesValidating":[{"name":"bench.deckhand.example.com","rules":[{"operations":["CREATE"],"apiGroups":["bench.deckhand.example.com"],"apiVersions":["*"],"resources":["nothings"]}]}]}'
  exit 0
fi
image=$(jq -r '.[0].review.request.object.spec.image' "$BINDING_CONTEXT_PATH")
echo '{"allowed": true, "message": "'"$image"' ok"}' > "$VALIDATING_RESPONSE_PATH"
`
	if err := os.WriteFile(filepath.Join(dir, "validate.sh"), []byte(hookSrc), 0o755); err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	s, err := hookserver.New(hookserver.Options{
		HooksDir: dir, RestConfig: cp.Config, TempDir: b.TempDir(),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Webhooks: []webhook.Options{{ListenAddress: addr, URL: "https://" + addr, ConfigurationName: "bench-admission", Serve: webhook.ServeAdmission}},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })

	review, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1TypeMeta(),
		Request: &admissionv1.AdmissionRequest{UID: "u1", Operation: admissionv1.Create,
			Object: rawObject(`{"apiVersion":"bench.deckhand.example.com/v1","kind":"Nothing","metadata":{"name":"x"},"spec":{"image":"nginx"}}`)},
	})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // loopback benchmark
	post := func(url string) time.Duration {
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(review))
		if err != nil {
			b.Fatal(err)
		}
		var out admissionv1.AdmissionReview
		err = json.NewDecoder(resp.Body).Decode(&out)
		_ = resp.Body.Close()
		if err != nil || out.Response == nil || !out.Response.Allowed {
			b.Fatalf("answer: %+v %v", out.Response, err)
		}
		return time.Since(start)
	}
	hookURL := "https://" + addr + "/validate/validate.sh/bench.deckhand.example.com"
	testenv.WaitFor(b, time.Minute, "the admission server", func() (bool, string) {
		resp, err := client.Get("https://" + addr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return true, ""
	})
	floor := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in admissionv1.AdmissionReview
		_ = json.NewDecoder(r.Body).Decode(&in)
		in.Response = &admissionv1.AdmissionResponse{UID: in.Request.UID, Allowed: true}
		in.Request = nil
		_ = json.NewEncoder(w).Encode(in)
	}))
	defer floor.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hookLat, floorLat := make([]time.Duration, n), make([]time.Duration, n)
		for j := 0; j < n; j++ {
			hookLat[j] = post(hookURL)
			floorLat[j] = post(floor.URL)
		}
		p := func(d []time.Duration, q float64) time.Duration {
			sort.Slice(d, func(a, c int) bool { return d[a] < d[c] })
			return d[int(float64(len(d)-1)*q)]
		}
		h50, h99, f50, f99 := p(hookLat, 0.5), p(hookLat, 0.99), p(floorLat, 0.5), p(floorLat, 0.99)
		b.ReportMetric(float64(h50.Microseconds())/1000, "ms-p50")
		b.ReportMetric(float64(h99.Microseconds())/1000, "ms-p99")
		b.ReportMetric(float64(f50.Microseconds())/1000, "ms-floor-p50")
		b.ReportMetric(float64(f99.Microseconds())/1000, "ms-floor-p99")
		b.Logf("%d admission requests through a bash + jq hook: p50 %s p99 %s; Go webhook without a hook (floor): p50 %s p99 %s", n, h50, h99, f50, f99)
	}
}

func metav1TypeMeta() metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}
}

func rawObject(s string) runtime.RawExtension { return runtime.RawExtension{Raw: []byte(s)} }
