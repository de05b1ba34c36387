package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/localenv"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/runtime"
)

type devOptions struct {
	exitWhenReady bool
	kubeconfig    string
	registryPort  int
	inProcessReg  bool
	modulesDir    string
	modulesVer    string
	channel       string
	runModules    bool
	namespace     string
}

func newDevCommand() *cobra.Command {
	var o devOptions
	cmd := &cobra.Command{
		Use:     "dev",
		GroupID: groupEnvironment,
		Short:   "Run a real local control plane (kube-apiserver + etcd) and registry until Ctrl-C",
		Long: `dev starts a real kube-apiserver with etcd and a Docker Registry v2 on this machine.

The first run builds kube-apiserver and etcd from the Go module proxy (a few
minutes) and caches them; later runs are up in seconds. dev prints the
KUBECONFIG to export and the registry address, then runs until Ctrl-C and
stops everything it started.

With --run-modules (the default) it also runs the modules of --modules-dir
(examples/modules) the way ` + "`deckhand run`" + ` does, so their objects are in the
API server and ` + "`kubectl get modules`" + ` lists them.`,
		Example: `  # everything on this machine, until Ctrl-C
  deckhand dev

  # start, converge the example modules once, print their state and stop
  deckhand dev --exit-when-ready

  # only the control plane and the registry
  deckhand dev --modules-dir ""`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDev(cmd, o) },
	}
	cmd.AddCommand(newDevPrepareCommand())
	f := cmd.Flags()
	f.BoolVar(&o.exitWhenReady, "exit-when-ready", false, "stop everything and exit as soon as it is all up (for scripts and tests)")
	f.StringVar(&o.kubeconfig, "kubeconfig-out", "", "where to write the kubeconfig (default: <cache>/dev/kubeconfig)")
	f.IntVar(&o.registryPort, "registry-port", 0, "registry port on 127.0.0.1 (default: a free port)")
	f.BoolVar(&o.inProcessReg, "in-process-registry", false, "serve go-containerregistry's in-memory registry instead of docker-registry")
	f.StringVar(&o.modulesDir, "modules-dir", "examples/modules", "publish every module under this directory to the registry as the source <registry>/modules (\"\" to skip)")
	f.StringVar(&o.modulesVer, "modules-version", "v0.1.0", "version to publish the modules of --modules-dir as")
	f.StringVar(&o.channel, "modules-channel", "stable", "release channel to point at that version")
	f.BoolVar(&o.runModules, "run-modules", true, "also run the modules of --modules-dir against the control plane (deckhand run)")
	f.StringVarP(&o.namespace, "namespace", "n", runtime.DefaultNamespace, "namespace of the modules' Helm releases")
	return cmd
}

func runDev(cmd *cobra.Command, o devOptions) error {
	ctx := cmd.Context()
	progress := cmd.ErrOrStderr()
	if o.kubeconfig == "" {
		cache, err := localenv.CacheDir()
		if err != nil {
			return err
		}
		o.kubeconfig = filepath.Join(cache, "dev", "kubeconfig")
	}
	unlock, err := lockDevState(o.kubeconfig)
	if err != nil {
		return err
	}
	defer unlock()
	env, err := localenv.Start(ctx, localenv.Options{
		ControlPlane:      localenv.ControlPlaneOptions{Progress: progress, KubeconfigPath: o.kubeconfig},
		Registry:          localenv.DockerRegistryOptions{Port: o.registryPort},
		InProcessRegistry: o.inProcessReg,
	})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "export KUBECONFIG=%s\n", env.ControlPlane.KubeconfigPath)
	fmt.Fprintf(out, "# registry: %s (%s)\n", env.Registry.Addr, env.Registry.Kind)
	if o.modulesDir != "" {
		if _, statErr := os.Stat(o.modulesDir); statErr == nil {
			source := env.Registry.Addr + "/modules"
			published, err := registry.PublishDir(ctx, o.modulesDir, source, o.modulesVer, o.channel)
			for _, p := range published {
				fmt.Fprintf(progress, "published %s %s to %s (channel %s)\n", p.Module, p.Version, source, o.channel)
			}
			if err != nil {
				_ = env.Stop()
				return err
			}
			fmt.Fprintf(out, "# module source: %s (try: deckhand registry ls %s)\n", source, source)
		} else if cmd.Flags().Changed("modules-dir") {
			_ = env.Stop()
			return fmt.Errorf("--modules-dir %s: %w", o.modulesDir, statErr)
		}
	}
	var runErr error
	if o.modulesDir != "" && o.runModules {
		runErr = runDevModules(ctx, env.ControlPlane.Config, o, out, progress)
	} else if !o.exitWhenReady {
		fmt.Fprintln(progress, "ready; press Ctrl-C to stop")
		<-ctx.Done()
	}
	fmt.Fprintln(progress, "stopping")
	if err := env.Stop(); err != nil {
		return err
	}
	fmt.Fprintln(progress, "stopped")
	return runErr
}

// lockDevState makes one `deckhand dev` own a kubeconfig path at a time: a
// second one would overwrite the kubeconfig of the first and leave it
// pointing at a dead server.
func lockDevState(kubeconfig string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(kubeconfig), 0o755); err != nil {
		return nil, err
	}
	lock := flock.New(kubeconfig + ".lock")
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", lock.Path(), err)
	}
	if !ok {
		pid, _ := os.ReadFile(kubeconfig + ".pid")
		return nil, fmt.Errorf("another deckhand dev (pid %s) is running with the kubeconfig %s: stop it, use its KUBECONFIG, or give this one --kubeconfig-out PATH", strings.TrimSpace(string(pid)), kubeconfig)
	}
	_ = os.WriteFile(kubeconfig+".pid", []byte(strconv.Itoa(os.Getpid())), 0o644)
	return func() {
		_ = os.Remove(kubeconfig + ".pid")
		_ = lock.Unlock()
	}, nil
}

// runDevModules runs the modules of o.modulesDir on the local control
// plane: once with a summary under --exit-when-ready, else until ctx ends.
func runDevModules(ctx context.Context, cfg *rest.Config, o devOptions, out, progress io.Writer) error {
	if err := installRuntimeCRDs(ctx, cfg); err != nil {
		if ctx.Err() != nil {
			return nil // Ctrl-C while starting
		}
		return err
	}
	rt, err := runtime.New(runtime.Options{
		ModulesDirs:   []string{o.modulesDir},
		Namespace:     o.namespace,
		ModuleConfigs: true,
		RestConfig:    cfg,
		Logger:        slog.New(slog.NewTextHandler(progress, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	if o.exitWhenReady {
		sum, err := rt.RunOnce(ctx)
		if err != nil {
			return err
		}
		if err := printSummary(out, "table", sum); err != nil {
			return err
		}
		if sum.Failed > 0 {
			return fmt.Errorf("%d module(s) of %s failed to converge", sum.Failed, o.modulesDir)
		}
		return nil
	}
	fmt.Fprintf(progress, "running the modules of %s (kubectl get modules); press Ctrl-C to stop\n", o.modulesDir)
	return rt.Run(ctx)
}
