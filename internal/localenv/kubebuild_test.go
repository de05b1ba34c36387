package localenv

import (
	"context"
	"golang.org/x/mod/modfile"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestThrowawayGoModReplacesStagingModules(t *testing.T) {
	dir := t.TempDir()
	kube := filepath.Join(dir, "go.mod")
	text := "module k8s.io/kubernetes\n\ngo 1.26.0\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/client-go => ./staging/src/k8s.io/client-go\n\tgithub.com/x/y => github.com/x/y v1.0.0\n)\n"
	if err := os.WriteFile(kube, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := throwawayGoMod(kube, "v1.37.2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go 1.26.0", "require k8s.io/kubernetes v1.37.2", "k8s.io/api => k8s.io/api v0.37.2", "k8s.io/client-go => k8s.io/client-go v0.37.2"} {
		if !strings.Contains(got, want) {
			t.Errorf("go.mod lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "github.com/x/y") {
		t.Errorf("non-staging replace copied:\n%s", got)
	}
}

func TestThrowawayGoModWithoutStagingFails(t *testing.T) {
	kube := filepath.Join(t.TempDir(), "go.mod")
	if err := os.WriteFile(kube, []byte("module k8s.io/kubernetes\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := throwawayGoMod(kube, "v1.37.2"); err == nil {
		t.Fatal("expected an error for a go.mod without staging replaces")
	}
}

func TestEnsureKubeBinariesUsesKubebuilderAssets(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{apiServerBinary, etcdBinary} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("KUBEBUILDER_ASSETS", dir)
	t.Setenv("DECKHAND_CACHE_DIR", filepath.Join(t.TempDir(), "never-used"))
	got, err := EnsureKubeBinaries(context.Background(), "v1.0.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != dir {
		t.Fatalf("got %s, want KUBEBUILDER_ASSETS %s", got, dir)
	}
}

// Test binaries carry no dependency versions, so KubernetesVersion falls back
// to a constant there; this keeps that constant in step with go.mod.
func TestFallbackKubernetesVersionMatchesGoMod(t *testing.T) {
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Require {
		if r.Mod.Path == "k8s.io/client-go" {
			want := "v1." + strings.TrimPrefix(r.Mod.Version, "v0.")
			if fallbackKubernetesVersion != want {
				t.Fatalf("fallbackKubernetesVersion = %s, but go.mod requires client-go %s: set it to %s", fallbackKubernetesVersion, r.Mod.Version, want)
			}
			return
		}
	}
	t.Fatal("go.mod does not require k8s.io/client-go")
}
