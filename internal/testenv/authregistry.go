package testenv

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/deckhand-dev/deckhand/internal/localenv"
)

// RegistryUser is an account of AuthRegistry.
type RegistryUser struct {
	Password string
	// ReadOnly users get 403 Forbidden on anything but GET and HEAD.
	ReadOnly bool
}

// AuthRegistry starts go-containerregistry's in-process registry behind HTTP
// basic authentication for one test, as a Docker Registry v2 with htpasswd
// answers: 401 with a Basic challenge without or with wrong credentials.
// It returns host:port.
func AuthRegistry(t testing.TB, users map[string]RegistryUser) string {
	t.Helper()
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		u, known := users[user]
		if !ok || !known || u.Password != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="deckhand-test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		if u.ReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// DockerRegistryWithAuth starts a Docker Registry v2 of its own for one test,
// with htpasswd authentication for users (name -> password). It returns
// host:port.
func DockerRegistryWithAuth(t testing.TB, users map[string]string) string {
	t.Helper()
	r, err := localenv.StartDockerRegistry(context.Background(), localenv.DockerRegistryOptions{Htpasswd: users})
	if err != nil {
		t.Fatalf("starting docker-registry with htpasswd: %v", err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	return r.Addr
}
