package bench

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// BenchmarkVerifyBeforeDeploy is what signature verification adds to a
// deploy: verifying a version (module image and release image, each a HEAD,
// the .sig manifest and its layer, and an ECDSA check) next to downloading
// and unpacking the same version, against Docker Registry v2 in the same
// run. The module carries 2 MiB of files, like a small real module.
func BenchmarkVerifyBeforeDeploy(b *testing.B) {
	reg := testenv.DockerRegistry(b)
	ctx := context.Background()
	source := reg.Addr + "/bench-verify/modules"
	dir := filepath.Join(b.TempDir(), "verified")
	files := map[string]string{
		"module.yaml": "name: verified\nweight: 100\n",
		"Chart.yaml":  "apiVersion: v2\nname: verified\nversion: 0.1.0\n",
	}
	blob := make([]byte, 64<<10)
	for i := range blob {
		blob[i] = byte('a' + i%26)
	}
	for i := 0; i < 32; i++ {
		files[filepath.Join("docs", "page"+string(rune('a'+i%26))+string(rune('a'+i/26))+".md")] = string(blob)
	}
	testenv.WriteFiles(b, dir, files)
	priv, pub, err := registry.GenerateSigningKey()
	if err != nil {
		b.Fatal(err)
	}
	key, _ := registry.LoadSigningKey(priv, nil)
	keys, _ := registry.LoadVerifyKeys(pub)
	if _, err := registry.PublishModule(ctx, dir, source, "v1.0.0", "stable", registry.WithSigningKey(key)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var verify, pull time.Duration
	for i := 0; i < b.N; i++ {
		c, err := registry.NewClient() // no cache carried between rounds
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		vr, err := c.Verify(ctx, source, "verified", "v1.0.0", keys)
		if err != nil {
			b.Fatal(err)
		}
		verify += time.Since(start)
		start = time.Now()
		if _, err := c.Pull(ctx, source, "verified", "v1.0.0", filepath.Join(b.TempDir(), "out"), registry.PullOptions{Digest: vr.Bundle.Digest}); err != nil {
			b.Fatal(err)
		}
		pull += time.Since(start)
	}
	b.ReportMetric(float64(verify.Microseconds())/1000/float64(b.N), "ms-verify")
	b.ReportMetric(float64(pull.Microseconds())/1000/float64(b.N), "ms-download")
	b.Logf("verify %.1f ms, download+unpack %.1f ms per deploy (2 MiB module)", float64(verify.Microseconds())/1000/float64(b.N), float64(pull.Microseconds())/1000/float64(b.N))
}
