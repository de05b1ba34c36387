package registry_test

import (
	"encoding/base64"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/registry"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// guardedRegistry is go-containerregistry's registry behind TLS, basic auth,
// an optional burst of 429 answers, and a request log.
type guardedRegistry struct {
	srv      *httptest.Server
	caFile   string
	tooMany  atomic.Int32 // answer this many requests with 429 first
	mu       sync.Mutex
	requests []string
}

func startGuardedRegistry(t *testing.T, user, pass string) *guardedRegistry {
	t.Helper()
	g := &guardedRegistry{}
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.requests = append(g.requests, r.Method+" "+r.URL.Path)
		g.mu.Unlock()
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		if g.tooMany.Load() > 0 && r.URL.Path != "/v2/" {
			g.tooMany.Add(-1)
			http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, http.StatusTooManyRequests)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	g.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	g.srv.StartTLS()
	t.Cleanup(g.srv.Close)
	g.caFile = filepath.Join(t.TempDir(), "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.srv.Certificate().Raw})
	if err := os.WriteFile(g.caFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return g
}

// host is 127.0.0.1:port; deckhand tries HTTPS first there, so TLS is used.
func (g *guardedRegistry) host() string {
	return strings.TrimPrefix(g.srv.URL, "https://")
}

func (g *guardedRegistry) count(prefix string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, r := range g.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func writeDockerConfig(t *testing.T, host, user, pass string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	if err := os.WriteFile(p, []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClientAuthCAAndRetries(t *testing.T) {
	g := startGuardedRegistry(t, "robot", "s3cret")
	source := g.host() + "/acme/modules"
	fast := registry.WithRetryBackoff(remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 5})
	a, err := registry.Build(ctx(t), loadModule(t, writeModule(t)), registry.BuildOptions{Version: "v0.1.0"})
	if err != nil {
		t.Fatal(err)
	}

	// Without the CA: TLS verification fails and says so.
	noCA := newClient(t, registry.WithDockerConfig(writeDockerConfig(t, g.host(), "robot", "s3cret")), fast)
	if _, err := noCA.Push(ctx(t), source, a, registry.PushOptions{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("push without CA: %v, want a certificate error", err)
	}
	// Wrong credentials: refused with the registry's answer.
	badAuth := newClient(t, registry.WithDockerConfig(writeDockerConfig(t, g.host(), "robot", "wrong")), registry.WithCAFile(g.caFile), fast)
	if _, err := badAuth.Push(ctx(t), source, a, registry.PushOptions{}); err == nil || !strings.Contains(strings.ToLower(err.Error()), "unauthorized") {
		t.Fatalf("push with wrong password: %v, want UNAUTHORIZED", err)
	}
	// A CA file that holds no certificate is a clear error.
	junk := filepath.Join(t.TempDir(), "junk.pem")
	_ = os.WriteFile(junk, []byte("nope"), 0o644)
	if _, err := registry.NewClient(registry.WithCAFile(junk)); err == nil || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk CA file: %v", err)
	}

	// Right CA + credentials from the config file, through a burst of 429s.
	c := newClient(t, registry.WithDockerConfig(writeDockerConfig(t, g.host(), "robot", "s3cret")), registry.WithCAFile(g.caFile), fast)
	g.tooMany.Store(3)
	if _, err := c.Push(ctx(t), source, a, registry.PushOptions{Channels: []string{"stable"}}); err != nil {
		t.Fatalf("push through 429s: %v", err)
	}
	if g.tooMany.Load() != 0 {
		t.Fatalf("the 429 answers were not all met: %d left", g.tooMany.Load())
	}

	// Tag lists are cached per repository within one client.
	before := g.count("GET /v2/acme/modules/hello/release/tags/list")
	for range 3 {
		if _, err := c.Tags(ctx(t), source, "hello"); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.count("GET /v2/acme/modules/hello/release/tags/list") - before; n != 1 {
		t.Fatalf("release tag list fetched %d times for 3 Tags calls, want 1", n)
	}
	info, err := c.Inspect(ctx(t), source, "hello", "stable")
	if err != nil || info.Version != "v0.1.0" {
		t.Fatalf("inspect over TLS+auth: %+v, %v", info, err)
	}

	// --insecure: an unverified certificate is accepted.
	insecure := newClient(t, registry.WithDockerConfig(writeDockerConfig(t, g.host(), "robot", "s3cret")), registry.WithInsecure(true), fast)
	if mods, err := insecure.ListModules(ctx(t), source); err != nil || len(mods) != 1 {
		t.Fatalf("ListModules with --insecure: %v, %v", mods, err)
	}

	// The same from in-memory config and CA (as a ModuleSource carries them).
	cfg, _ := os.ReadFile(writeDockerConfig(t, g.host(), "robot", "s3cret"))
	ca, _ := os.ReadFile(g.caFile)
	mem := newClient(t, registry.WithDockerConfigData(cfg), registry.WithCAData(ca), fast)
	mods, err := mem.ListModules(ctx(t), source)
	if err != nil || len(mods) != 1 || mods[0] != "hello" {
		t.Fatalf("ListModules with in-memory config and CA: %v, %v", mods, err)
	}
}
