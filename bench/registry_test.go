package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/deckhand-dev/deckhand/internal/localenv"
	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// moduleBytes is the size of the benchmark module: 50 files of 1 MiB of
// random (incompressible) data, so 50 MiB cross the wire either way.
const (
	moduleFiles = 50
	fileSize    = 1 << 20
	moduleBytes = moduleFiles * fileSize
)

func writeBigModule(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "big")
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "module.yaml"), []byte("name: big\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, fileSize)
	for i := range moduleFiles {
		_, _ = rand.Read(buf)
		if err := os.WriteFile(filepath.Join(dir, "templates", fmt.Sprintf("blob-%02d.bin", i)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// benchRegistries runs f on the in-process registry and Docker Registry v2.
// fresh returns a module source no blob has been pushed to: a new in-process
// registry (it shares blobs across repositories), or a new repository path on
// docker-registry (it links blobs per repository). It runs with the timer stopped.
func benchRegistries(b *testing.B, f func(b *testing.B, fresh func(b *testing.B) string)) {
	b.Run("in-process", func(b *testing.B) {
		var prev *localenv.Registry
		b.Cleanup(func() {
			if prev != nil {
				_ = prev.Stop()
			}
		})
		f(b, func(b *testing.B) string {
			b.StopTimer()
			defer b.StartTimer()
			if prev != nil {
				_ = prev.Stop()
			}
			prev = localenv.StartInProcessRegistry()
			return prev.Addr + "/acme/modules"
		})
	})
	b.Run("docker-registry", func(b *testing.B) {
		host := testenv.DockerRegistry(b).Addr
		n := 0
		f(b, func(b *testing.B) string {
			n++
			return fmt.Sprintf("%s/bench-%d/modules", host, n)
		})
	})
}

// BenchmarkRegistryPush pushes a 50 MiB module. Every iteration uses a fresh
// repository, so every blob is uploaded.
//   - deckhand-build-push: `deckhand module push` path: build (tar+gzip) and push
//   - deckhand-push: Client.Push of artifacts built once (bundle, release, channel, index)
//   - crane-push: the same artifacts and tags through the crane API (the floor)
func BenchmarkRegistryPush(b *testing.B) {
	dir := writeBigModule(b)
	ctx := context.Background()
	prebuilt, err := registry.Build(ctx, loadModule(b, dir), registry.BuildOptions{Version: "v1.0.0"})
	if err != nil {
		b.Fatal(err)
	}
	benchRegistries(b, func(b *testing.B, fresh func(b *testing.B) string) {
		c, err := registry.NewClient()
		if err != nil {
			b.Fatal(err)
		}
		b.Run("deckhand-build-push", func(b *testing.B) {
			b.SetBytes(moduleBytes)
			for i := 0; i < b.N; i++ {
				source := fresh(b)
				a, err := registry.Build(ctx, loadModule(b, dir), registry.BuildOptions{Version: "v1.0.0"})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Push(ctx, source, a, registry.PushOptions{Channels: []string{"stable"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("deckhand-push", func(b *testing.B) {
			b.SetBytes(moduleBytes)
			for i := 0; i < b.N; i++ {
				source := fresh(b)
				if _, err := c.Push(ctx, source, prebuilt, registry.PushOptions{Channels: []string{"stable"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("crane-push", func(b *testing.B) {
			b.SetBytes(moduleBytes)
			for i := 0; i < b.N; i++ {
				source := fresh(b)
				// The same four tags deckhand writes, the way modules-template CI
				// does it with crane (push, push, tag, append).
				opt := crane.WithContext(ctx)
				if err := crane.Push(prebuilt.Bundle, source+"/big:v1.0.0", opt); err != nil {
					b.Fatal(err)
				}
				if err := crane.Push(prebuilt.Release, source+"/big/release:v1.0.0", opt); err != nil {
					b.Fatal(err)
				}
				if err := crane.Tag(source+"/big/release:v1.0.0", "stable", opt); err != nil {
					b.Fatal(err)
				}
				if err := crane.Push(prebuilt.Index, source+":big", opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkRegistryPull pulls the 50 MiB module version to disk.
//   - deckhand-pull: Client.Pull (resolve, download, safe unpack, atomic swap)
//   - crane-export: crane.Pull + crane.Export of the same image to a tar file (the floor)
func BenchmarkRegistryPull(b *testing.B) {
	dir := writeBigModule(b)
	ctx := context.Background()
	a, err := registry.Build(ctx, loadModule(b, dir), registry.BuildOptions{Version: "v1.0.0"})
	if err != nil {
		b.Fatal(err)
	}
	benchRegistries(b, func(b *testing.B, fresh func(b *testing.B) string) {
		c, err := registry.NewClient()
		if err != nil {
			b.Fatal(err)
		}
		source := fresh(b)
		if _, err := c.Push(ctx, source, a, registry.PushOptions{Force: true}); err != nil {
			b.Fatal(err)
		}
		out := b.TempDir()
		b.Run("deckhand-pull", func(b *testing.B) {
			b.SetBytes(moduleBytes)
			for b.Loop() {
				if _, err := c.Pull(ctx, source, "big", "v1.0.0", filepath.Join(out, "module"), registry.PullOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("crane-export", func(b *testing.B) {
			b.SetBytes(moduleBytes)
			ref, err := name.ParseReference(source + "/big:v1.0.0")
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				img, err := crane.Pull(ref.String(), crane.WithContext(ctx))
				if err != nil {
					b.Fatal(err)
				}
				f, err := os.Create(filepath.Join(out, "export.tar"))
				if err != nil {
					b.Fatal(err)
				}
				if err := crane.Export(img, f); err != nil {
					b.Fatal(err)
				}
				if err := f.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// loadModule loads a module directory for registry.Build, as `deckhand
// module build` and `push` do.
func loadModule(b *testing.B, dir string) *module.Module {
	b.Helper()
	m, err := module.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	return m
}
