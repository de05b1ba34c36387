package registry_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// fastBackoff keeps retried tests quick: five attempts, a millisecond apart.
var fastBackoff = remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 5}

// faultProxy forwards to a registry and injects a fault into the first
// faulty GETs of each path that fault selects; faulty < 0 faults every one.
type faultProxy struct {
	next   http.Handler
	match  func(*http.Request) bool
	fault  func(w http.ResponseWriter, r *http.Request, next http.Handler)
	faulty int

	mu    sync.Mutex
	gets  map[string]int
	armed bool
}

func newFaultProxy(next http.Handler, faulty int, match func(*http.Request) bool, fault func(http.ResponseWriter, *http.Request, http.Handler)) *faultProxy {
	return &faultProxy{next: next, match: match, fault: fault, faulty: faulty, gets: map[string]int{}}
}

func (p *faultProxy) arm() { p.mu.Lock(); p.armed = true; p.mu.Unlock() }

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	inject := false
	if r.Method == http.MethodGet && p.match(r) {
		p.mu.Lock()
		if p.armed {
			p.gets[r.URL.Path]++
			inject = p.faulty < 0 || p.gets[r.URL.Path] <= p.faulty
		}
		p.mu.Unlock()
	}
	if inject {
		p.fault(w, r, p.next)
		return
	}
	p.next.ServeHTTP(w, r)
}

// attempts returns the GETs seen (since arm) of each matching path.
func (p *faultProxy) attempts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.gets {
		out[k] = v
	}
	return out
}

func isBlobGet(r *http.Request) bool { return strings.Contains(r.URL.Path, "/blobs/sha256:") }

func isManifestGet(r *http.Request) bool { return strings.Contains(r.URL.Path, "/manifests/") }

// resetMidBody forwards the request but lets only the first 64 bytes of the
// answer through, then resets the TCP connection (RST, not a clean close).
func resetMidBody(w http.ResponseWriter, r *http.Request, next http.Handler) {
	next.ServeHTTP(&resettingWriter{ResponseWriter: w, left: 64}, r)
}

type resettingWriter struct {
	http.ResponseWriter
	left int
}

var errInjectedReset = errors.New("injected connection reset")

func (w *resettingWriter) Write(p []byte) (int, error) {
	if len(p) < w.left {
		w.left -= len(p)
		return w.ResponseWriter.Write(p)
	}
	n, _ := w.ResponseWriter.Write(p[:w.left])
	w.ResponseWriter.(http.Flusher).Flush()
	conn, _, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
	// The reverse proxy aborts the handler on this error; the connection is gone.
	return n, errInjectedReset
}

// pushModule builds the test module at version and pushes it to source.
func pushModule(t *testing.T, c *registry.Client, source, version string) {
	t.Helper()
	a, err := registry.Build(ctx(t), loadModule(t, writeModule(t)), registry.BuildOptions{Version: version, Client: c})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx(t), source, a, registry.PushOptions{}); err != nil {
		t.Fatal(err)
	}
}

// assertOnly fails unless dir holds exactly the names given (no download or
// unpack leftovers beside a pulled tree).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
}

// TestPullThroughConnectionResets puts a real Docker Registry v2 behind a
// reverse proxy that resets the connection in the middle of every blob on the
// first attempts: the pull retries and gets the right tree. When every
// attempt is reset the pull fails, naming the blob, and leaves no target and
// no partial tree; a tree pulled before stays as it was.
func TestPullThroughConnectionResets(t *testing.T) {
	r := testenv.DockerRegistry(t)
	target, err := url.Parse("http://" + r.Addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		faulty int
	}{{"first two attempts reset", 2}, {"every attempt reset", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := newFaultProxy(httputil.NewSingleHostReverseProxy(target), tc.faulty, isBlobGet, resetMidBody)
			srv := httptest.NewServer(proxy)
			t.Cleanup(srv.Close)
			repo := "/" + strings.ToLower(strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())) + "/modules"
			source := strings.TrimPrefix(srv.URL, "http://") + repo
			c := newClient(t, registry.WithRetryBackoff(fastBackoff))
			pushModule(t, c, source, "v1.0.0")
			parent := t.TempDir()
			dest := filepath.Join(parent, "hello")
			proxy.arm()

			_, err := c.Pull(ctx(t), source, "hello", "v1.0.0", dest, registry.PullOptions{})
			att := proxy.attempts()
			if len(att) == 0 {
				t.Fatal("no blob GET went through the proxy")
			}
			if tc.faulty > 0 {
				if len(att) != 2 {
					t.Fatalf("blob GETs through the proxy: %v, want the config and the layer", att)
				}
				if err != nil {
					t.Fatalf("pull through %d resets per blob: %v", tc.faulty, err)
				}
				for p, n := range att {
					if n != tc.faulty+1 {
						t.Errorf("%s fetched %d times, want %d", p, n, tc.faulty+1)
					}
				}
				assertTree(t, readTree(t, dest), expectedBundle("v1.0.0", "{}\n"))
				assertOnly(t, parent, ".hello.deckhand-pull.json", "hello")
				return
			}
			if err == nil {
				t.Fatal("pull with every blob download reset succeeded")
			}
			if !strings.Contains(err.Error(), "attempt(s)") || !strings.Contains(err.Error(), repo+"/hello@sha256:") {
				t.Fatalf("error = %v, want one naming the image and the attempts made", err)
			}
			for p, n := range att {
				if n != fastBackoff.Steps {
					t.Errorf("%s fetched %d times, want %d (the retry budget)", p, n, fastBackoff.Steps)
				}
			}
			assertOnly(t, parent)

			// A tree pulled before (fault-free) is left exactly as it was.
			c2 := newClient(t, registry.WithRetryBackoff(fastBackoff))
			if _, err := c2.Pull(ctx(t), strings.TrimPrefix(target.String(), "http://")+repo, "hello", "v1.0.0", dest, registry.PullOptions{}); err != nil {
				t.Fatal(err)
			}
			before := readTree(t, dest)
			if _, err := c.Pull(ctx(t), source, "hello", "v1.0.0", dest, registry.PullOptions{}); err == nil {
				t.Fatal("second faulty pull succeeded")
			}
			assertTree(t, readTree(t, dest), before)
			assertOnly(t, parent, ".hello.deckhand-pull.json", "hello")
		})
	}
}

// recordSleeps returns a client option recording every wait instead of
// spending it, and a function returning the waits so far.
func recordSleeps() (registry.Option, func() []time.Duration) {
	var mu sync.Mutex
	var waits []time.Duration
	opt := registry.WithSleep(func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	})
	return opt, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
}

func status(code int, retryAfter string) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(code)
		_, _ = w.Write([]byte("injected fault"))
	}
}

// hang answers nothing until the client gives up on the request.
func hang(_ http.ResponseWriter, r *http.Request, _ http.Handler) { <-r.Context().Done() }

// TestPullRetriesRegistryFaults: 429 with Retry-After (honoured: the wait the
// registry asked for is taken), 5xx and a registry that stops answering are
// retried and the pull succeeds; a fault that outlasts the retry budget fails
// the pull with the registry's answer and leaves nothing behind.
func TestPullRetriesRegistryFaults(t *testing.T) {
	cases := []struct {
		name     string
		match    func(*http.Request) bool
		fault    func(http.ResponseWriter, *http.Request, http.Handler)
		faulty   int
		wantWait time.Duration
		wantErr  string
	}{
		{name: "429 with Retry-After on blobs", match: isBlobGet, fault: status(http.StatusTooManyRequests, "7"), faulty: 1, wantWait: 7 * time.Second},
		{name: "503 with Retry-After on the manifest", match: isManifestGet, fault: status(http.StatusServiceUnavailable, "3"), faulty: 2, wantWait: 3 * time.Second},
		{name: "500 on the manifest", match: isManifestGet, fault: status(http.StatusInternalServerError, ""), faulty: 2},
		{name: "502 on blobs", match: isBlobGet, fault: status(http.StatusBadGateway, ""), faulty: 3},
		{name: "registry stops answering", match: isManifestGet, fault: hang, faulty: 1},
		{name: "500 forever", match: isManifestGet, fault: status(http.StatusInternalServerError, ""), faulty: -1, wantErr: "500 Internal Server Error"},
		{name: "429 forever with a long Retry-After", match: isBlobGet, fault: status(http.StatusTooManyRequests, "3600"), faulty: -1,
			wantWait: 30 * time.Second, wantErr: "429 Too Many Requests"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy := newFaultProxy(ggcrregistry.New(ggcrregistry.Logger(discardLogger())), tc.faulty, tc.match, tc.fault)
			srv := httptest.NewServer(proxy)
			t.Cleanup(srv.Close)
			source := strings.TrimPrefix(srv.URL, "http://") + "/acme/modules"
			sleeps, waits := recordSleeps()
			c := newClient(t, registry.WithRetryBackoff(fastBackoff), sleeps, registry.WithResponseTimeout(300*time.Millisecond))
			pushModule(t, c, source, "v1.0.0")
			parent := t.TempDir()
			dest := filepath.Join(parent, "hello")
			proxy.arm()

			_, err := c.Pull(ctx(t), source, "hello", "v1.0.0", dest, registry.PullOptions{})
			if tc.wantWait != 0 && !containsDuration(waits(), tc.wantWait) {
				t.Errorf("waits taken %v, want one of %v (Retry-After)", waits(), tc.wantWait)
			}
			att := proxy.attempts()
			if len(att) == 0 {
				t.Fatal("no request met the fault")
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("pull through %d faults per request: %v", tc.faulty, err)
				}
				for p, n := range att {
					if n != tc.faulty+1 {
						t.Errorf("%s fetched %d times, want %d", p, n, tc.faulty+1)
					}
				}
				assertTree(t, readTree(t, dest), expectedBundle("v1.0.0", "{}\n"))
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want one saying %q", err, tc.wantErr)
			}
			for p, n := range att {
				if n != fastBackoff.Steps {
					t.Errorf("%s fetched %d times, want %d (the retry budget)", p, n, fastBackoff.Steps)
				}
			}
			assertOnly(t, parent)
		})
	}
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func containsDuration(ds []time.Duration, want time.Duration) bool {
	for _, d := range ds {
		if d == want {
			return true
		}
	}
	return false
}
