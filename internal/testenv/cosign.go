package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/deckhand-dev/deckhand/internal/localenv"
)

// CosignVersion is the reference tool the signature tests check against.
const CosignVersion = "v2.6.5"

// Cosign returns the path of a cosign binary built from the Go module proxy
// (once per machine, cached next to the kube binaries; a few minutes the
// first time), for round trips with the reference tool.
func Cosign(t testing.TB) string {
	t.Helper()
	cache, err := localenv.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "tools", "cosign-"+CosignVersion)
	bin := filepath.Join(dir, "cosign")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock := flock.New(dir + ".lock")
	if err := lock.Lock(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Unlock() }()
	if _, err := os.Stat(bin); err == nil {
		return bin // built by another test binary meanwhile
	}
	t.Logf("building cosign %s from the Go module proxy (once per machine)", CosignVersion)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	tmp := filepath.Join(dir, "build")
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/sigstore/cosign/v2/cmd/cosign@"+CosignVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building cosign %s: %v\n%s", CosignVersion, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "cosign"), bin); err != nil {
		t.Fatal(err)
	}
	return bin
}
