package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
	"github.com/spf13/cobra"

	"github.com/deckhand-dev/deckhand/internal/localenv"
	"github.com/deckhand-dev/deckhand/internal/module"
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
	devModules    []string
	publicKey     []byte // of the dev signing key; the dev source enforces it
	signer        registry.Option
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

With --run-modules (the default) it runs the whole module system on top: the
modules of --modules-dir (examples/modules) are published to the registry as the
module source "local" with a release channel, a ModuleSource, a ModuleUpdatePolicy
(Auto) and an enabled ModuleConfig per module (those its values.yaml enables) are
applied, and ` + "`deckhand operator`" + ` runs in this process: it scans the source,
creates ModuleReleases, downloads and runs the modules. dev prints a summary once
they serve (` + "`kubectl get modules,modulereleases,modulesources`" + ` and ` + "`deckhand status`" + `
show the same).

Everything dev publishes is signed with a key it generates once (signing.key and
signing.pub next to the kubeconfig), and the source "local" enforces that key: an
unsigned or tampered release would be Suspended, so the default setup is the safe one.

--module DIR adds a module of your own: it is published and enabled too, and
re-published as the next patch version whenever its files change, so an edit rolls
out as a new release within seconds.`,
		Example: `  # everything on this machine, until Ctrl-C
  deckhand dev

  # start, converge the example modules once, print their state and stop
  deckhand dev --exit-when-ready

  # your module in the inner loop: edit its files, watch the release roll out
  deckhand dev --module ./my-module

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
	f.BoolVar(&o.runModules, "run-modules", true, "run the module system: apply the source, policy and ModuleConfigs and run the operator")
	f.StringArrayVar(&o.devModules, "module", nil, "a module directory of your own to publish, enable and re-publish on every change (repeatable)")
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
	source := env.Registry.Addr + "/modules"
	key, pub, err := devSigningKey(filepath.Dir(o.kubeconfig))
	if err != nil {
		_ = env.Stop()
		return fmt.Errorf("the dev signing key: %w", err)
	}
	o.publicKey = pub
	signed := registry.WithSigningKey(key)
	o.signer = signed
	var enabled []string
	if o.modulesDir != "" {
		if _, statErr := os.Stat(o.modulesDir); statErr == nil {
			published, err := registry.PublishDir(ctx, o.modulesDir, source, o.modulesVer, o.channel, signed)
			for _, p := range published {
				fmt.Fprintf(progress, "published %s %s to %s (channel %s)\n", p.Module, p.Version, source, o.channel)
			}
			if err != nil {
				_ = env.Stop()
				return err
			}
			enabled = enabledByDefault(o.modulesDir, published)
		} else if cmd.Flags().Changed("modules-dir") {
			_ = env.Stop()
			return fmt.Errorf("--modules-dir %s: %w", o.modulesDir, statErr)
		}
	}
	for _, dir := range o.devModules {
		p, err := registry.PublishModule(ctx, dir, source, o.modulesVer, o.channel, signed)
		if err != nil {
			_ = env.Stop()
			return fmt.Errorf("--module %s: %w", dir, err)
		}
		fmt.Fprintf(progress, "published %s %s to %s (channel %s)\n", p.Module, p.Version, source, o.channel)
		enabled = append(enabled, p.Module)
	}
	if len(enabled) > 0 || o.modulesDir != "" {
		fmt.Fprintf(out, "# module source: %s (try: deckhand registry ls %s)\n", source, source)
	}
	var runErr error
	if len(enabled) > 0 && o.runModules {
		runErr = runDevSystem(ctx, env.ControlPlane.Config, source, enabled, o, out, progress)
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

// enabledByDefault is the published modules the modules directory's
// values.yaml enables (<valuesKey>Enabled: true, addon-operator's rule).
func enabledByDefault(dir string, published []*registry.PushResult) []string {
	set, _ := module.Discover([]string{dir})
	keys := map[string]string{}
	for _, m := range set.Modules {
		keys[m.Name] = m.ValuesKey
	}
	common := map[string]any{}
	if len(set.Dirs) > 0 && set.Dirs[0].Values != nil {
		common = set.Dirs[0].Values
	}
	var out []string
	for _, p := range published {
		if on, _ := common[keys[p.Module]+"Enabled"].(bool); on {
			out = append(out, p.Module)
		}
	}
	return out
}
