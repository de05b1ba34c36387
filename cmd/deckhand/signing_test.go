package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func writeKeyPair(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	p, q, err := registry.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(priv, p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, q, 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// push --sign-key, registry verify (exit code, who signed, a channel),
// pull --verify-key refusing before it unpacks, module sign adding a
// second key's signature.
func TestSigningCLI(t *testing.T) {
	source := testenv.Registry(t).Addr + "/signed/modules"
	keys := t.TempDir()
	privA, pubA := writeKeyPair(t, keys, "a")
	privB, pubB := writeKeyPair(t, keys, "b")
	dir := writeCLIModule(t)
	mustRun(t, "module", "push", dir, "--repo", source, "--version", "v1.0.0", "--channel", "stable", "--sign-key", privA)

	var res registry.VerifyResult
	decode(t, mustRun(t, "registry", "verify", source, "greeter", "stable", "--key", pubA, "-o", "json"), &res)
	if res.Version != "v1.0.0" || res.Bundle == nil || len(res.Bundle.SignedBy) != 1 || res.Release == nil || len(res.Release.SignedBy) != 1 {
		t.Fatalf("verify: %+v", res)
	}
	_, _, err := runDeckhand(t, "registry", "verify", source, "greeter", "v1.0.0", "--key", pubB)
	if err == nil || !strings.Contains(err.Error(), "verification failed") {
		t.Fatalf("verify with another key: %v", err)
	}
	out := filepath.Join(t.TempDir(), "greeter")
	_, _, err = runDeckhand(t, "registry", "pull", source, "greeter", "v1.0.0", "--dir", out, "--verify-key", pubB)
	if err == nil || !strings.Contains(err.Error(), "not pulled") {
		t.Fatalf("pull --verify-key with another key: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused pull wrote %s (%v)", out, err)
	}
	mustRun(t, "registry", "pull", source, "greeter", "v1.0.0", "--dir", out, "--verify-key", pubA)
	if _, err := os.Stat(filepath.Join(out, "module.yaml")); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "module", "sign", source, "greeter", "v1.0.0", "--key", privB)
	decode(t, mustRun(t, "registry", "verify", source, "greeter", "v1.0.0", "--key", pubA, "--key", pubB, "-o", "json"), &res)
	if len(res.Bundle.SignedBy) != 2 {
		t.Fatalf("after a second signature: %+v", res.Bundle)
	}
	_, _, err = runDeckhand(t, "module", "sign", source, "greeter")
	if err == nil || !strings.Contains(err.Error(), "VERSION is required") {
		t.Fatalf("a missing argument: %v", err)
	}
}

// A missing argument is named, not counted.
func TestMissingArgumentNamed(t *testing.T) {
	for args, want := range map[string]string{
		"registry pull example.io/m hello": "VERSION|CHANNEL is required",
		"registry channel example.io/m":    "MODULE is required",
		"module init":                      "NAME is required",
	} {
		_, _, err := runDeckhand(t, strings.Fields(args)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("deckhand %s: %v, want %q", args, err, want)
		}
	}
}
