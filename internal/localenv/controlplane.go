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

	env     *envtest.Environment
	dir     string
	certDir string // kube-apiserver's certificates, kept across RestartAPIServer
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
	// A certificate directory of our own outlives a stop of kube-apiserver
	// (envtest deletes the one it makes), so a restarted server presents the
	// same serving certificate and clients keep trusting it.
	certDir, err := os.MkdirTemp("", "deckhand-apiserver-")
	if err != nil {
		return nil, fmt.Errorf("creating kube-apiserver certificate directory: %w", err)
	}
	env.ControlPlane.GetAPIServer().CertDir = certDir
	// Without this, a stop waits up to --request-timeout (a minute) for open
	// watches before closing their connections, longer than envtest's stop
	// timeout; with it, the server drains short requests and then gives the
	// watches two seconds, as a production API server behind a load
	// balancer is usually run.
	env.ControlPlane.GetAPIServer().Configure().Set("shutdown-send-retry-after", "true")
	start := time.Now()
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		_ = os.RemoveAll(certDir)
		return nil, fmt.Errorf("starting kube-apiserver %s from %s: %w", opts.Version, assets, err)
	}
	cp := &ControlPlane{Config: cfg, Version: opts.Version, env: env, certDir: certDir}
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
	_ = os.RemoveAll(cp.certDir)
	if err != nil {
		return fmt.Errorf("stopping control plane: %w", err)
	}
	return nil
}

// StopAPIServer stops only kube-apiserver, leaving etcd and its data running,
// so tests can see what clients do while the API is unreachable. Start it
// again with StartAPIServer.
func (cp *ControlPlane) StopAPIServer() error {
	if err := cp.env.ControlPlane.APIServer.Stop(); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	return nil
}

// StartAPIServer starts kube-apiserver again after StopAPIServer: on the same
// port, with the same etcd and certificates, so Config and the kubeconfig
// stay valid. It returns once the server is healthy.
func (cp *ControlPlane) StartAPIServer() error {
	if err := cp.env.ControlPlane.APIServer.Start(); err != nil {
		return fmt.Errorf("restarting kube-apiserver on %s: %w", cp.Config.Host, err)
	}
	return nil
}
