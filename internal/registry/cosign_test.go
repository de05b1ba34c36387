package registry_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// Round trip with the reference tool, on Docker Registry v2: a version
// signed by deckhand verifies with `cosign verify --key`, and one signed
// by `cosign sign` (its encrypted key format) verifies with deckhand.
func TestCosignRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cosign")
	}
	cosign := testenv.Cosign(t)
	reg := testenv.DockerRegistry(t)
	source := reg.Addr + "/cosign-roundtrip/modules"
	c := newClient(t)
	a, err := registry.Build(ctx(t), loadModule(t, writeModule(t)), registry.BuildOptions{Version: "v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx(t), source, a, registry.PushOptions{Channels: []string{"stable"}, Force: true}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cosign, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=test-password", "COSIGN_YES=true")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	digest, err := crane.Digest(source+"/hello:v1.0.0", crane.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	ref := source + "/hello@" + digest

	// deckhand signs, cosign verifies.
	priv, pub, err := registry.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := registry.LoadSigningKey(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sign(ctx(t), source, "hello", "v1.0.0", key); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "deckhand.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	run("verify", "--key", "deckhand.pub", "--insecure-ignore-tlog=true", "--allow-http-registry", "--allow-insecure-registry", ref)

	// cosign signs (its own encrypted key), deckhand verifies and loads that key.
	run("generate-key-pair")
	run("sign", "--key", "cosign.key", "--tlog-upload=false", "--allow-http-registry", "--allow-insecure-registry", ref)
	cosignPub, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	vk, err := registry.LoadVerifyKeys(cosignPub)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Verify(ctx(t), source, "hello", "stable", vk)
	if err == nil {
		t.Fatalf("the release image is signed by deckhand only, yet verified: %+v", res)
	}
	if res == nil || res.Bundle == nil || len(res.Bundle.SignedBy) != 1 || res.Bundle.SignedBy[0] != vk[0].KeyID {
		t.Fatalf("cosign's signature of the module image: %+v, %v", res, err)
	}
	encrypted, err := os.ReadFile(filepath.Join(dir, "cosign.key"))
	if err != nil {
		t.Fatal(err)
	}
	if k, err := registry.LoadSigningKey(encrypted, []byte("test-password")); err != nil || k.KeyID != vk[0].KeyID {
		t.Fatalf("loading cosign's encrypted key: %v", err)
	}
	if _, err := registry.LoadSigningKey(encrypted, []byte("wrong")); err == nil || !strings.Contains(err.Error(), "COSIGN_PASSWORD") {
		t.Fatalf("a wrong password: %v", err)
	}
}
