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
	"os/signal"
	"sync"
	"syscall"
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
// registry and removes the deckhand binary DeckhandBinary built. An interrupt
// (Ctrl-C) or SIGTERM does the same before exiting, so a stopped test run
// leaves no kube-apiserver, etcd or registry behind; a second one exits at
// once.
func Main(m *testing.M) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-sig
		if !ok {
			return
		}
		signal.Stop(sig) // the next signal kills as usual
		fmt.Fprintf(os.Stderr, "testenv: %v: stopping the shared control plane and registry\n", s)
		stopShared()
		os.Exit(1)
	}()
	code := m.Run()
	signal.Stop(sig)
	close(sig)
	stopShared()
	os.Exit(code)
}

// stopShared stops what Main's tests shared, once (a signal and the end of
// the tests may both call it). It waits for a part still starting
// (ControlPlane holds the lock while it starts).
func stopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.reg != nil {
		_ = shared.reg.Stop()
		shared.reg = nil
	}
	if shared.cp != nil {
		if err := shared.cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
		}
		shared.cp = nil
	}
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
		binary.dir = ""
	}
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
