package localenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ControlPlane is a running kube-apiserver with its etcd.
type ControlPlane struct {
	// Config reaches the API server as a cluster admin.
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file for the same admin, for kubectl and people.
	KubeconfigPath string
	// Version is the Kubernetes version of the server.
	Version string

	env *envtest.Environment
	dir string
}

// ControlPlaneOptions tune StartControlPlane; the zero value is fine.
type ControlPlaneOptions struct {
	// Version of kube-apiserver and etcd; defaults to KubernetesVersion().
	Version string
	// Progress receives build and start messages; nil discards them.
	Progress io.Writer
	// CRDDirectoryPaths are installed before Start returns.
	CRDDirectoryPaths []string
	// KubeconfigPath, when set, is where the kubeconfig is written instead of a temp dir.
	KubeconfigPath string
}

// StartControlPlane builds (once) and starts a real kube-apiserver and etcd.
func StartControlPlane(ctx context.Context, opts ControlPlaneOptions) (*ControlPlane, error) {
	if opts.Version == "" {
		opts.Version = KubernetesVersion()
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	assets, err := EnsureKubeBinaries(ctx, opts.Version, progress)
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        opts.CRDDirectoryPaths,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 90 * time.Second,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	// The binaries' paths are set outright: envtest would otherwise prefer
	// KUBEBUILDER_ASSETS (or TEST_ASSET_*) from the environment over
	// BinaryAssetsDirectory, even when it is empty or holds no binaries and
	// EnsureKubeBinaries built them elsewhere.
	env.ControlPlane.GetAPIServer().Path = filepath.Join(assets, "kube-apiserver")
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(assets, "etcd")}
	start := time.Now()
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("starting kube-apiserver %s from %s: %w", opts.Version, assets, err)
	}
	cp := &ControlPlane{Config: cfg, Version: opts.Version, env: env}
	if err := cp.writeKubeconfig(opts.KubeconfigPath); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	fmt.Fprintf(progress, "kube-apiserver %s up at %s (%s)\n", opts.Version, cfg.Host, time.Since(start).Round(100*time.Millisecond))
	return cp, nil
}

func (cp *ControlPlane) writeKubeconfig(path string) error {
	user, err := cp.env.AddUser(envtest.User{Name: "deckhand-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("creating admin user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("building kubeconfig: %w", err)
	}
	if path == "" {
		cp.dir, err = os.MkdirTemp("", "deckhand-kube-")
		if err != nil {
			return fmt.Errorf("creating kubeconfig directory: %w", err)
		}
		path = filepath.Join(cp.dir, "kubeconfig")
	} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating kubeconfig directory: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	cp.KubeconfigPath = path
	return nil
}

// Stop stops kube-apiserver and etcd and removes their data.
func (cp *ControlPlane) Stop() error {
	err := cp.env.Stop()
	if cp.dir != "" {
		_ = os.RemoveAll(cp.dir)
	}
	if err != nil {
		return fmt.Errorf("stopping control plane: %w", err)
	}
	return nil
}
