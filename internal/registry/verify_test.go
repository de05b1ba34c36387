package registry_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestPullRefusesTamperedBlob flips one byte of the module layer in
// docker-registry's storage: the pull must fail on the digest and leave the
// existing tree in place.
func TestPullRefusesTamperedBlob(t *testing.T) {
	r := testenv.DockerRegistry(t)
	source := r.Addr + "/tamper/modules"
	dir := writeModule(t)
	noise := make([]byte, 64<<10) // incompressible: stored as is in the gzip stream
	_, _ = rand.Read(noise)
	if err := os.WriteFile(filepath.Join(dir, "templates", "noise.bin"), noise, 0o644); err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	a, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx(t), source, a, registry.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "hello")
	if _, err := c.Pull(ctx(t), source, "hello", "v1.0.0", dest, registry.PullOptions{}); err != nil {
		t.Fatal(err)
	}

	layers, err := a.Bundle.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(r.DataDir, "docker", "registry", "v2", "blobs", "sha256", d.Hex[:2], d.Hex, "data")
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatalf("finding the layer in docker-registry storage: %v", err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(blob, data, 0o644); err != nil {
		t.Fatal(err)
	}

	_, err = newClient(t).Pull(ctx(t), source, "hello", "v1.0.0", dest, registry.PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("pull of a tampered layer: %v, want a checksum error", err)
	}
	if got := readTree(t, dest)["templates/noise.bin"]; got != string(noise) {
		t.Fatal("a failed pull changed the existing tree")
	}
}
