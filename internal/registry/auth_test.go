package registry_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// writeAuthConfig writes a docker config.json with user:password for host,
// or with no credentials at all when user is empty.
func writeAuthConfig(t *testing.T, host, user, password string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	auths := map[string]any{}
	if user != "" {
		auths[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	}
	data, _ := json.Marshal(map[string]any{"auths": auths})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuthErrorsTellMissingFromRejectedCredentials(t *testing.T) {
	host := testenv.AuthRegistry(t, map[string]testenv.RegistryUser{
		"alice":  {Password: "s3cret"},
		"reader": {Password: "s3cret", ReadOnly: true},
	})
	source := host + "/acme/modules"

	cases := []struct {
		name, user, password string
		status               int
		hasCredentials       bool
		want                 []string
	}{
		{"none", "", "", 401, false, []string{"requires authentication", "has no credentials for it", "deckhand registry login " + host, "--registry-config", "DOCKER_CONFIG"}},
		{"wrong password", "alice", "nope", 401, true, []string{"rejected the credentials", "wrong or expired", "deckhand registry login " + host, "DOCKER_CONFIG"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeAuthConfig(t, host, tc.user, tc.password)
			_, err := newClient(t, registry.WithDockerConfig(cfg)).ListModules(ctx(t), source)
			var ae *registry.AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("ListModules error = %v; want an AuthError", err)
			}
			if ae.Status != tc.status || ae.HasCredentials != tc.hasCredentials || ae.Registry != host || ae.Config != cfg {
				t.Fatalf("AuthError = %+v", ae)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}

	t.Run("directory as --registry-config", func(t *testing.T) {
		cfg := writeAuthConfig(t, host, "alice", "s3cret")
		mods, err := newClient(t, registry.WithDockerConfig(filepath.Dir(cfg))).ListModules(ctx(t), source)
		if err != nil || len(mods) != 0 {
			t.Fatalf("ListModules with the right credentials = %v, %v", mods, err)
		}
	})

	t.Run("forbidden", func(t *testing.T) {
		cfg := writeAuthConfig(t, host, "reader", "s3cret")
		c := newClient(t, registry.WithDockerConfig(cfg))
		a, err := registry.Build(ctx(t), loadModule(t, writeModule(t)), registry.BuildOptions{Version: "v1.0.0", Client: c})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Push(ctx(t), source, a, registry.PushOptions{})
		var ae *registry.AuthError
		if !errors.As(err, &ae) || ae.Status != 403 || !ae.HasCredentials {
			t.Fatalf("push as a read-only user: %v; want a 403 AuthError with credentials", err)
		}
		if !strings.Contains(err.Error(), "lacks permission") {
			t.Fatalf("403 message %q does not say the account lacks permission", err)
		}
	})

	t.Run("ModuleSource dockerCfg", func(t *testing.T) {
		_, err := newClient(t, registry.WithDockerConfigData([]byte(`{"auths":{}}`))).ListModules(ctx(t), source)
		if err == nil || !strings.Contains(err.Error(), "spec.registry.dockerCfg") || strings.Contains(err.Error(), "registry login") {
			t.Fatalf("in-cluster auth error = %v; want it to point at the ModuleSource's dockerCfg", err)
		}
	})
}

// The same answers from a real Docker Registry v2 with htpasswd.
func TestAuthErrorsFromDockerRegistry(t *testing.T) {
	host := testenv.DockerRegistryWithAuth(t, map[string]string{"alice": "s3cret"})
	source := host + "/acme/modules"
	c := newClient(t, registry.WithDockerConfig(writeAuthConfig(t, host, "", "")))
	var ae *registry.AuthError
	if _, err := c.ListModules(ctx(t), source); !errors.As(err, &ae) || ae.HasCredentials || ae.Status != 401 {
		t.Fatalf("without credentials: %v; want a 401 AuthError without credentials", err)
	}
	c = newClient(t, registry.WithDockerConfig(writeAuthConfig(t, host, "alice", "nope")))
	if _, err := c.ListModules(ctx(t), source); !errors.As(err, &ae) || !ae.HasCredentials || ae.Status != 401 {
		t.Fatalf("wrong password: %v; want a 401 AuthError with credentials", err)
	}
	if _, err := newClient(t).CheckLogin(ctx(t), host, "alice", "nope"); err == nil || !strings.Contains(err.Error(), `rejected user "alice"`) {
		t.Fatalf("CheckLogin with a wrong password: %v", err)
	}
	if res, err := newClient(t).CheckLogin(ctx(t), host, "alice", "s3cret"); err != nil || !res.Verified {
		t.Fatalf("CheckLogin = %+v, %v", res, err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := registry.SaveLogin(path, host, "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if mods, err := newClient(t, registry.WithDockerConfig(path)).ListModules(ctx(t), source); err != nil || len(mods) != 0 {
		t.Fatalf("listing after login = %v, %v", mods, err)
	}
}

func TestSourceThatIsOnlyAHost(t *testing.T) {
	c := newClient(t)
	for _, s := range []string{"registry.example.com", "localhost:5000", "registry.example.com/"} {
		_, err := c.ListModules(ctx(t), s)
		if err == nil || !strings.Contains(err.Error(), "SOURCE is REGISTRY/PATH, e.g. registry.example.com/modules") {
			t.Errorf("ListModules(%q) = %v; want the SOURCE format explained", s, err)
		}
	}
}

func TestEmptySource(t *testing.T) {
	r := testenv.Registry(t)
	c := newClient(t)
	why, err := c.EmptySource(ctx(t), r.Addr+"/nothing/here")
	if err != nil || !strings.Contains(why, "does not exist or has no tags") {
		t.Fatalf("EmptySource of a missing repository = %q, %v", why, err)
	}
	// A module's own repository: tags, but none are module names.
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	writeImage(t, r.Addr+"/acme/modules/hello:v1.0.0", img)
	why, err = c.EmptySource(ctx(t), r.Addr+"/acme/modules/hello")
	if err != nil || !strings.Contains(why, "are not module names") {
		t.Fatalf("EmptySource of a module repository = %q, %v", why, err)
	}
}

func TestLoginSaveLogout(t *testing.T) {
	host := testenv.AuthRegistry(t, map[string]testenv.RegistryUser{"alice": {Password: "s3cret"}})
	c := newClient(t)

	if _, err := c.CheckLogin(ctx(t), host, "alice", "wrong"); err == nil || !strings.Contains(err.Error(), `rejected user "alice"`) {
		t.Fatalf("CheckLogin with a wrong password = %v", err)
	}
	res, err := c.CheckLogin(ctx(t), host, "alice", "s3cret")
	if err != nil || !res.Verified || res.Registry != host {
		t.Fatalf("CheckLogin = %+v, %v", res, err)
	}
	// An open registry cannot check a password: login says so.
	open := testenv.Registry(t)
	if res, err := c.CheckLogin(ctx(t), open.Addr, "x", "y"); err != nil || res.Verified {
		t.Fatalf("CheckLogin on an open registry = %+v, %v; want unverified", res, err)
	}

	path := filepath.Join(t.TempDir(), "docker", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	other := base64.StdEncoding.EncodeToString([]byte("bob:pw"))
	if err := os.WriteFile(path, []byte(`{"auths":{"other.example.com":{"auth":"`+other+`"}},"psFormat":"table {{.ID}}"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := registry.SaveLogin(path, host, "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode after login: %v, %v; want 0600", fi.Mode(), err)
	}
	var saved struct {
		Auths    map[string]struct{ Auth string }
		PsFormat string
	}
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Auths["other.example.com"].Auth != other || saved.PsFormat != "table {{.ID}}" {
		t.Fatalf("login lost other entries: %s", data)
	}
	if got := saved.Auths[host].Auth; got != base64.StdEncoding.EncodeToString([]byte("alice:s3cret")) {
		t.Fatalf("saved auth for %s = %q", host, got)
	}
	// What login saved, the client uses.
	if _, err := newClient(t, registry.WithDockerConfig(path)).ListModules(ctx(t), host+"/acme/modules"); err != nil {
		t.Fatalf("listing with the saved login: %v", err)
	}

	if was, err := registry.Logout(path, host); err != nil || !was {
		t.Fatalf("Logout = %v, %v; want it to remove the entry", was, err)
	}
	if was, err := registry.Logout(path, host); err != nil || was {
		t.Fatalf("second Logout = %v, %v; want nothing to remove", was, err)
	}
	data, _ = os.ReadFile(path)
	if strings.Contains(string(data), host) || !strings.Contains(string(data), "other.example.com") {
		t.Fatalf("after logout: %s", data)
	}
}

func TestRegistryHost(t *testing.T) {
	for in, want := range map[string]string{"https://reg.example.com/": "reg.example.com", "localhost:5000": "localhost:5000"} {
		if got, err := registry.RegistryHost(in); err != nil || got != want {
			t.Errorf("RegistryHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := registry.RegistryHost("reg.example.com/acme"); err == nil || !strings.Contains(err.Error(), "no repository path") {
		t.Errorf("RegistryHost with a path: %v", err)
	}
}
