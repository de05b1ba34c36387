package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/api/crds"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/runtime"
)

type runOptions struct {
	modulesDir     string
	globalHooksDir string
	namespace      string
	configMap      string
	kubeconfig     string
	context        string
	listenAddress  string
	listenPort     string
	tmpDir         string
	hookTimeout    time.Duration
	shutdownGrace  time.Duration
	resync         time.Duration
	moduleConfigs  bool
	installCRDs    bool
	once           bool
	output         string
	logLevel       string
	logFormat      string
}

func newRunCommand() *cobra.Command {
	o := runOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a directory of modules against a cluster, like addon-operator",
		Long: `Run the modules of --modules-dir the way addon-operator runs them in DKP: global hooks,
then every enabled module in weight order (onStartup, kubernetes and schedule bindings,
beforeHelm, a Helm release named after the module, afterHelm), with values layered from
values.yaml files, OpenAPI defaults, ModuleConfig objects or addon-operator's ConfigMap,
and hook value patches. Each module converges in its own lane: a failing module is retried
with backoff and reported on its Module object while the others keep going.

addon-operator's environment variables are read too (MODULES_DIR, GLOBAL_HOOKS_DIR,
ADDON_OPERATOR_NAMESPACE, ADDON_OPERATOR_CONFIG_MAP, ADDON_OPERATOR_LISTEN_ADDRESS,
ADDON_OPERATOR_LISTEN_PORT), so an addon-operator Deployment keeps working with deckhand's
image. Serves /metrics, /metrics/hooks, /healthz and /readyz.`,
		Example: `  # run the example modules against the current kubeconfig context
  deckhand run --modules-dir examples/modules -n d8-system

  # converge once and exit with a summary (CI)
  deckhand run --modules-dir modules --once -o json

  # two module directories and global hooks, addon-operator style
  MODULES_DIR=/modules:/downloaded GLOBAL_HOOKS_DIR=/global-hooks deckhand run`,
		Args:    cobra.NoArgs,
		GroupID: groupHooks,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), cmd.OutOrStdout()) },
	}
	f := cmd.Flags()
	f.StringVar(&o.modulesDir, "modules-dir", os.Getenv("MODULES_DIR"), "module directories, separated by "+string(filepath.ListSeparator)+" (env MODULES_DIR)")
	f.StringVar(&o.globalHooksDir, "global-hooks-dir", os.Getenv("GLOBAL_HOOKS_DIR"), "global hooks directory, with openapi/ for global values (env GLOBAL_HOOKS_DIR)")
	f.StringVarP(&o.namespace, "namespace", "n", envOr("ADDON_OPERATOR_NAMESPACE", runtime.DefaultNamespace), "namespace of the Helm releases and the config ConfigMap (env ADDON_OPERATOR_NAMESPACE)")
	f.StringVar(&o.configMap, "config-map", envOr("ADDON_OPERATOR_CONFIG_MAP", runtime.DefaultConfigMap), `addon-operator's config ConfigMap ("-" to ignore it) (env ADDON_OPERATOR_CONFIG_MAP)`)
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&o.context, "context", "", "kubeconfig context")
	f.StringVar(&o.listenAddress, "listen-address", envOr("ADDON_OPERATOR_LISTEN_ADDRESS", "0.0.0.0"), `address for /metrics and health ("" disables) (env ADDON_OPERATOR_LISTEN_ADDRESS)`)
	f.StringVar(&o.listenPort, "listen-port", envOr("ADDON_OPERATOR_LISTEN_PORT", "9650"), "port for /metrics and health (env ADDON_OPERATOR_LISTEN_PORT)")
	f.StringVar(&o.tmpDir, "tmp-dir", envOr("ADDON_OPERATOR_TMP_DIR", ""), "directory for hook run files (env ADDON_OPERATOR_TMP_DIR)")
	f.DurationVar(&o.hookTimeout, "hook-timeout", runtime.DefaultHookTimeout, "kill a hook run (its whole process group) after this long and fail it; the module is retried with backoff")
	addShutdownGraceFlag(f, &o.shutdownGrace)
	f.DurationVar(&o.resync, "resync", runtime.DefaultResync, "reconcile every enabled module this often even when nothing changed (a deleted object is put back; unchanged modules are not upgraded)")
	f.BoolVar(&o.moduleConfigs, "module-configs", true, "read deckhouse.io ModuleConfig objects and write Module objects")
	f.BoolVar(&o.installCRDs, "install-crds", true, "create or update the ModuleConfig and Module CRDs at start")
	f.BoolVar(&o.once, "once", false, "converge every module once, print a summary and exit (non-zero when a module failed)")
	output.AddFlag(f, &o.output, true)
	f.Lookup("output").Usage = "format of the summary --once prints: " + output.ListFormats
	f.StringVar(&o.logLevel, "log-level", envOr("LOG_LEVEL", "info"), "log level: debug, info, warn or error (env LOG_LEVEL)")
	f.StringVar(&o.logFormat, "log-format", envOr("LOG_TYPE", "text"), "log format: text or json (env LOG_TYPE)")
	return cmd
}

func (o runOptions) run(ctx context.Context, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	logger, err := newCommandLogger(o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	if o.modulesDir == "" && o.globalHooksDir == "" {
		return errors.New("no modules: pass --modules-dir DIR (or set MODULES_DIR)")
	}
	cfg, err := loadRestConfig(o.kubeconfig, o.context)
	if err != nil {
		return err
	}
	// The gate lets a SIGTERM stop new hook runs while running ones finish.
	gate := hook.NewGate(hook.ShellExecutor{})
	ctx, stop := gracefulContext(ctx, logger, gate, o.shutdownGrace)
	defer stop()
	if o.installCRDs && o.moduleConfigs {
		if err := installRuntimeCRDs(ctx, cfg); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hookReg := prometheus.NewRegistry()
	rt, err := runtime.New(runtime.Options{
		ModulesDirs:    filepath.SplitList(o.modulesDir),
		GlobalHooksDir: o.globalHooksDir,
		Namespace:      o.namespace,
		ConfigMap:      o.configMap,
		ModuleConfigs:  o.moduleConfigs,
		RestConfig:     cfg,
		Logger:         logger,
		Registry:       reg,
		HookRegistry:   hookReg,
		HookTimeout:    o.hookTimeout,
		Executor:       gate,
		Resync:         o.resync,
		TempDir:        o.tmpDir,
	})
	if err != nil {
		return err
	}
	if o.once {
		sum, err := rt.RunOnce(ctx)
		if err != nil {
			return err
		}
		if err := printSummary(out, o.output, sum); err != nil {
			return err
		}
		if sum.Failed > 0 {
			return fmt.Errorf("%d module(s) failed to converge", sum.Failed)
		}
		return nil
	}
	if o.listenAddress != "" {
		ln, err := net.Listen("tcp", net.JoinHostPort(o.listenAddress, o.listenPort))
		if err != nil {
			return fmt.Errorf("--listen-address/--listen-port: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.Handle("/metrics/hooks", promhttp.HandlerFor(hookReg, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
			if ok, why := rt.Ready(); !ok {
				http.Error(w, why, http.StatusServiceUnavailable)
				return
			}
			_, _ = io.WriteString(w, "ok\n")
		})
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		logger.Info("serving metrics and health", "address", ln.Addr().String())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("metrics server", "error", err)
			}
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			<-done
		}()
	}
	return rt.Run(ctx)
}

func printSummary(w io.Writer, format string, sum *runtime.Summary) error {
	names := make([]string, len(sum.Modules))
	for i, m := range sum.Modules {
		names[i] = m.Name
	}
	return output.PrintList(w, format, sum, output.List{
		Names: names,
		Human: func(w io.Writer, _ bool) error {
			return output.WriteTable(w, func(tw io.Writer) error {
				output.Row(tw, "MODULE", "WEIGHT", "ENABLED", "PHASE", "REVISION", "ERROR")
				for _, m := range sum.Modules {
					rev := "-"
					if m.Revision > 0 {
						rev = fmt.Sprint(m.Revision)
					}
					output.Row(tw, m.Name, m.Weight, m.Enabled, m.Phase, rev, m.Error)
				}
				return nil
			})
		},
	})
}

// installRuntimeCRDs creates or updates the deckhouse.io CRDs the runtime
// reads and writes, and waits until the API server serves them.
func installRuntimeCRDs(ctx context.Context, cfg *rest.Config) error {
	if err := crds.Install(ctx, cfg); err != nil {
		return fmt.Errorf("installing the deckhouse.io CRDs (pass --install-crds=false if they are managed elsewhere): %w", err)
	}
	return nil
}
