// Package testenv is the harness of deckhand's integration tests: a real
// kube-apiserver + etcd and real OCI registries from internal/localenv, plus
// helpers to apply YAML and wait for conditions.
//
// A test package calls testenv.Main from TestMain so the shared control plane
// and docker-registry are stopped after its tests. Only tests import testenv.
package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/localenv"
)

// shared holds the parts started once per test binary.
var shared struct {
	mu     sync.Mutex
	cp     *localenv.ControlPlane
	cpErr  error
	reg    *localenv.Registry
	regErr error
}

// Main runs the package's tests, then stops the shared control plane and
// registry and removes the deckhand binary DeckhandBinary built.
func Main(m *testing.M) {
	code := m.Run()
	shared.mu.Lock()
	if shared.reg != nil {
		_ = shared.reg.Stop()
	}
	if shared.cp != nil {
		if err := shared.cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
		}
	}
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// ControlPlane returns the test binary's kube-apiserver, started on first use
// (the first run of a machine builds it, which takes minutes). Tests sharing it
// keep apart with their own namespaces and object names (see Namespace).
func ControlPlane(t testing.TB) *localenv.ControlPlane {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cp == nil && shared.cpErr == nil {
		shared.cp, shared.cpErr = localenv.StartControlPlane(context.Background(), localenv.ControlPlaneOptions{Progress: progressWriter{}})
	}
	if shared.cpErr != nil {
		t.Fatalf("starting the control plane: %v", shared.cpErr)
	}
	return shared.cp
}

// Registry starts go-containerregistry's in-process registry for one test.
func Registry(t testing.TB) *localenv.Registry {
	t.Helper()
	r := localenv.StartInProcessRegistry()
	t.Cleanup(func() { _ = r.Stop() })
	return r
}

// DockerRegistry returns the test binary's Docker Registry v2 (Debian's
// docker-registry), started on first use. Tests use distinct repositories.
func DockerRegistry(t testing.TB) *localenv.Registry {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.reg == nil && shared.regErr == nil {
		shared.reg, shared.regErr = localenv.StartDockerRegistry(context.Background(), localenv.DockerRegistryOptions{})
	}
	if shared.regErr != nil {
		t.Fatalf("starting docker-registry: %v", shared.regErr)
	}
	return shared.reg
}

// progressWriter shows the one-time build progress on stderr, since a test
// may wait minutes for it and should not look hung.
type progressWriter struct{}

func (progressWriter) Write(p []byte) (int, error) { return os.Stderr.Write(p) }

// DedicatedControlPlane starts a kube-apiserver and etcd for one test and
// stops them after it: for tests that stop or restart the API server, which
// must not disturb the tests sharing ControlPlane.
func DedicatedControlPlane(t testing.TB) *localenv.ControlPlane {
	t.Helper()
	cp, err := localenv.StartControlPlane(context.Background(), localenv.ControlPlaneOptions{Progress: progressWriter{}})
	if err != nil {
		t.Fatalf("starting a dedicated control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Errorf("stopping the dedicated control plane: %v", err)
		}
	})
	return cp
}
