package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// runDeckhandStdin runs the CLI in-process with stdin.
func runDeckhandStdin(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	root := newRootCommand()
	var stdout, stderr bytes.Buffer
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return stdout.String(), err
}

func TestRegistryLoginLogoutCLI(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		testRegistryLoginLogout(t, testenv.AuthRegistry(t, map[string]testenv.RegistryUser{"alice": {Password: "s3cret"}}))
	})
	t.Run("docker-registry", func(t *testing.T) {
		testRegistryLoginLogout(t, testenv.DockerRegistryWithAuth(t, map[string]string{"alice": "s3cret"}))
	})
}

func testRegistryLoginLogout(t *testing.T, host string) {
	dir := t.TempDir() // a --registry-config directory: config.json goes inside
	source := host + "/acme/modules"

	// Before login: the error says no credentials were found and what to do.
	_, _, err := runDeckhand(t, "registry", "ls", source, "--registry-config", dir)
	if err == nil || !strings.Contains(err.Error(), "has no credentials for it") || !strings.Contains(err.Error(), "deckhand registry login "+host) {
		t.Fatalf("ls before login: %v", err)
	}

	if _, err := runDeckhandStdin(t, "wrong\n", "registry", "login", host, "-u", "alice", "--password-stdin", "--registry-config", dir); err == nil || !strings.Contains(err.Error(), `rejected user "alice"`) {
		t.Fatalf("login with a wrong password: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); !os.IsNotExist(err) {
		t.Fatalf("a rejected login wrote the config: %v", err)
	}
	if _, err := runDeckhandStdin(t, "", "registry", "login", host, "--password-stdin", "--registry-config", dir); err == nil || !strings.Contains(err.Error(), "stdin was empty") {
		t.Fatalf("login with empty stdin: %v", err)
	}

	out, err := runDeckhandStdin(t, "s3cret\n", "registry", "login", "https://"+host+"/", "-u", "alice", "--password-stdin", "--registry-config", dir, "-o", "json")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	var res struct {
		Registry, Username, Config string
		Verified                   bool
	}
	decode(t, out, &res)
	if res.Registry != host || res.Username != "alice" || !res.Verified || res.Config != filepath.Join(dir, "config.json") {
		t.Fatalf("login output %+v", res)
	}
	if fi, err := os.Stat(res.Config); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config after login: %v %v; want mode 0600", fi, err)
	}

	// Logged in: ls reaches the (empty) source and says it is empty.
	out = mustRun(t, "registry", "ls", source, "--registry-config", dir)
	if !strings.Contains(out, "no modules in "+source) || strings.Contains(out, "MODULE") {
		t.Fatalf("ls of an empty source printed %q", out)
	}
	var listed struct{ Modules []string }
	decode(t, mustRun(t, "registry", "ls", source, "--registry-config", dir, "-o", "json"), &listed)
	if listed.Modules == nil || len(listed.Modules) != 0 {
		t.Fatalf("json ls of an empty source: %+v; want an empty list", listed)
	}

	// The source must have a path.
	if _, _, err := runDeckhand(t, "registry", "ls", host, "--registry-config", dir); err == nil || !strings.Contains(err.Error(), "SOURCE is REGISTRY/PATH, e.g. registry.example.com/modules") {
		t.Fatalf("ls of a bare host: %v", err)
	}

	// Logout removes the entry; ls is back to "no credentials".
	var lo struct{ Removed bool }
	decode(t, mustRun(t, "registry", "logout", host, "--registry-config", dir, "-o", "json"), &lo)
	if !lo.Removed {
		t.Fatal("logout removed nothing")
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	var cfg struct{ Auths map[string]json.RawMessage }
	if err := json.Unmarshal(data, &cfg); err != nil || len(cfg.Auths) != 0 {
		t.Fatalf("config after logout: %s (%v)", data, err)
	}
	if out := mustRun(t, "registry", "logout", host, "--registry-config", dir); !strings.Contains(out, "Not logged in") {
		t.Fatalf("second logout printed %q", out)
	}
}

func TestRegistryLoginUsesDockerConfigEnv(t *testing.T) {
	host := testenv.AuthRegistry(t, map[string]testenv.RegistryUser{"alice": {Password: "s3cret"}})
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	if _, err := runDeckhandStdin(t, "s3cret", "registry", "login", host, "-u", "alice", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || !strings.Contains(string(data), host) {
		t.Fatalf("$DOCKER_CONFIG/config.json after login: %s, %v", data, err)
	}
}
