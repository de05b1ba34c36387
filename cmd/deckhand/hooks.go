package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/hookserver"
	"github.com/deckhand-dev/deckhand/internal/metrics"
	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

const groupHooks = "hooks"

// addHooksCommands registers the Hooks group and `deckhand hooks` on root.
func addHooksCommands(root *cobra.Command) {
	root.AddGroup(&cobra.Group{ID: groupHooks, Title: "Hooks:"})
	root.AddCommand(newHooksCommand())
}

// newHooksCommand is `deckhand hooks`: the standalone shell-operator mode and
// its debug commands.
func newHooksCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "hooks",
		Short:   "Run shell-operator hooks from a directory, and inspect a running instance",
		GroupID: groupHooks,
		Example: `  # run the hooks of ./hooks against the current kubeconfig context
  deckhand hooks serve --hooks-dir ./hooks

  # in another terminal: what is queued and what a hook would see
  deckhand hooks queues
  deckhand hooks snapshots pods.sh`,
	}
	cmd.AddCommand(newHooksServeCommand(), newHooksQueuesCommand(), newHooksSnapshotsCommand())
	return cmd
}

type hooksServeOptions struct {
	hooksDir       string
	kubeconfig     string
	context        string
	listenAddress  string
	debugAddress   string
	leaderElect    bool
	leaseNamespace string
	leaseName      string
	tmpDir         string
	metricsPrefix  string
	accumulate     bool
	jqLibraryPath  string
	keepTmpFiles   bool
	proxyHookJSON  bool
	logLevel       string
	logFormat      string
	hookTimeout    time.Duration
	shutdownGrace  time.Duration
	validating     webhookFlags
	conversion     webhookFlags
	webhookNS      string
}

// webhookFlags are shell-operator's flags of one webhook server.
type webhookFlags struct {
	configName, serviceName, cert, key, ca, address, port, url string
}

func (w webhookFlags) options(ns string, serve webhook.Serve) webhook.Options {
	return webhook.Options{
		ListenAddress: net.JoinHostPort(w.address, w.port), CertFile: w.cert, KeyFile: w.key, CAFile: w.ca,
		ServiceName: w.serviceName, Namespace: ns, URL: w.url, ConfigurationName: w.configName, Serve: serve,
	}
}

func newHooksServeCommand() *cobra.Command {
	o := hooksServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hooks of a directory against a cluster, like shell-operator",
		Long: `Run every hook under --hooks-dir the way shell-operator does: onStartup hooks in
order, then kubernetes and schedule bindings through named queues. Serves /metrics,
/metrics/hooks, /healthz and /readyz on --listen-address, and /debug/queues,
/debug/snapshots/{hook} (full objects, Secrets included) on --debug-address,
which defaults to loopback only.
With --leader-elect only the holder of a Lease runs hooks.

Hooks with kubernetesValidating / kubernetesMutating bindings are served over HTTPS
on --validating-webhook-listen-port (9680), with kubernetesCustomResourceConversion
bindings on --conversion-webhook-listen-port (9681), as shell-operator does: deckhand
creates the ValidatingWebhookConfiguration / MutatingWebhookConfiguration and points
the CRDs' spec.conversion at the Service (or at --*-webhook-url), with the CA bundle.
Certificates are read from the --*-server-cert/--*-server-key files and reloaded when
they change on disk; when the files are absent deckhand generates a CA and a
certificate and injects that CA.

A hook run longer than --hook-timeout is killed with its whole process group and
retried with backoff in its queue. On SIGTERM no new hook run starts; running ones get
--shutdown-grace to finish before their process groups are killed and the Lease is
released.`,
		Example: `  # the hooks of ./hooks against the current kubeconfig context
  deckhand hooks serve --hooks-dir ./hooks

  # shell-operator's metric names, JSON logs, one active replica
  deckhand hooks serve --hooks-dir /hooks --metrics-prefix shell_operator_ --log-format json \
    --leader-elect --lease-namespace hooks

  # in a cluster, with a standby replica; a hook may run 5m, and 25s to finish on SIGTERM
  deckhand hooks serve --hooks-dir /hooks --leader-elect --hook-timeout 5m --shutdown-grace 25s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
	f := cmd.Flags()
	f.StringVar(&o.hooksDir, "hooks-dir", envOr("SHELL_OPERATOR_HOOKS_DIR", "hooks"), "directory with hooks (env SHELL_OPERATOR_HOOKS_DIR)")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&o.context, "context", "", "kubeconfig context")
	f.StringVar(&o.listenAddress, "listen-address", hookserver.DefaultListenAddress, "address for /metrics, /healthz and /readyz")
	f.StringVar(&o.debugAddress, "debug-address", hookserver.DefaultDebugAddress, `address for /debug/queues and /debug/snapshots (unauthenticated: keep it on loopback; "" disables)`)
	f.BoolVar(&o.leaderElect, "leader-elect", false, "run hooks only while holding a Lease")
	f.StringVar(&o.leaseNamespace, "lease-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the Lease (env POD_NAMESPACE)")
	f.StringVar(&o.leaseName, "lease-name", "deckhand-hooks", "name of the Lease")
	f.StringVar(&o.tmpDir, "tmp-dir", envOr("SHELL_OPERATOR_TMP_DIR", ""), "directory for hook run files (env SHELL_OPERATOR_TMP_DIR)")
	f.BoolVar(&o.accumulate, "hook-metrics-accumulate", false, "keep ungrouped hook metrics across runs (counters accumulate) instead of replacing them each run")
	f.StringVar(&o.jqLibraryPath, "jq-library-path", os.Getenv("JQ_LIBRARY_PATH"), "directories (list separated by "+string(filepath.ListSeparator)+") with jq modules that jqFilters import (env JQ_LIBRARY_PATH)")
	f.BoolVar(&o.keepTmpFiles, "debug-keep-tmp-files", envBool("DEBUG_KEEP_TMP_FILES"), "keep each run's binding context and output files in --tmp-dir (env DEBUG_KEEP_TMP_FILES)")
	f.BoolVar(&o.proxyHookJSON, "log-proxy-hook-json", envBool("LOG_PROXY_HOOK_JSON"), "log hook output lines holding a JSON object as structured records (env LOG_PROXY_HOOK_JSON)")
	f.StringVar(&o.logLevel, "log-level", envOr("LOG_LEVEL", "info"), "log level: debug, info, warn or error (env LOG_LEVEL)")
	f.StringVar(&o.logFormat, "log-format", envOr("LOG_TYPE", "text"), "log format: text or json (env LOG_TYPE)")
	f.DurationVar(&o.hookTimeout, "hook-timeout", hook.DefaultTimeout, "kill a hook run (its whole process group) after this long and fail it, the queue retries it with backoff (0 = no limit, as shell-operator)")
	addShutdownGraceFlag(f, &o.shutdownGrace)
	f.StringVar(&o.webhookNS, "webhook-namespace", envOr("SHELL_OPERATOR_NAMESPACE", os.Getenv("POD_NAMESPACE")), "namespace of the webhook Services (env SHELL_OPERATOR_NAMESPACE, POD_NAMESPACE)")
	for _, w := range []struct {
		flags                           *webhookFlags
		prefix, env, svc, certDir, port string
	}{
		{&o.validating, "validating-webhook", "VALIDATING_WEBHOOK", "shell-operator-validating-svc", "/validating-certs", "9680"},
		{&o.conversion, "conversion-webhook", "CONVERSION_WEBHOOK", "shell-operator-conversion-svc", "/conversion-certs", "9681"},
	} {
		if w.prefix == "validating-webhook" {
			f.StringVar(&w.flags.configName, "validating-webhook-configuration-name", envOr("VALIDATING_WEBHOOK_CONFIGURATION_NAME", webhook.DefaultConfigurationName), "name of the Validating/MutatingWebhookConfiguration (env VALIDATING_WEBHOOK_CONFIGURATION_NAME)")
		}
		f.StringVar(&w.flags.serviceName, w.prefix+"-service-name", envOr(w.env+"_SERVICE_NAME", w.svc), "Service the API server calls (env "+w.env+"_SERVICE_NAME)")
		f.StringVar(&w.flags.cert, w.prefix+"-server-cert", envOr(w.env+"_SERVER_CERT", w.certDir+"/tls.crt"), "serving certificate, reloaded on change; absent: generated (env "+w.env+"_SERVER_CERT)")
		f.StringVar(&w.flags.key, w.prefix+"-server-key", envOr(w.env+"_SERVER_KEY", w.certDir+"/tls.key"), "serving key (env "+w.env+"_SERVER_KEY)")
		f.StringVar(&w.flags.ca, w.prefix+"-ca", envOr(w.env+"_CA", w.certDir+"/ca.crt"), "CA bundle registered for the API server (env "+w.env+"_CA)")
		f.StringVar(&w.flags.address, w.prefix+"-listen-address", envOr(w.env+"_LISTEN_ADDRESS", "0.0.0.0"), "listen address (env "+w.env+"_LISTEN_ADDRESS)")
		f.StringVar(&w.flags.port, w.prefix+"-listen-port", envOr(w.env+"_LISTEN_PORT", w.port), "listen port (env "+w.env+"_LISTEN_PORT)")
		f.StringVar(&w.flags.url, w.prefix+"-url", os.Getenv(w.env+"_URL"), "register this base URL instead of the Service (a webhook reached directly; env "+w.env+"_URL)")
	}
	f.StringVar(&o.metricsPrefix, "metrics-prefix", metrics.DefaultPrefix, `prefix of runtime metrics ("shell_operator_" for shell-operator's names)`)
	return cmd
}

func (o hooksServeOptions) run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	logger, err := newCommandLogger(o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	if o.hooksDir == "" {
		return errors.New("no hooks directory: pass --hooks-dir DIR or set SHELL_OPERATOR_HOOKS_DIR")
	}
	if _, err := os.Stat(o.hooksDir); err != nil {
		return fmt.Errorf("hooks dir %s: %w (pass --hooks-dir DIR or set SHELL_OPERATOR_HOOKS_DIR)", o.hooksDir, err)
	}
	cfg, err := loadRestConfig(o.kubeconfig, o.context)
	if err != nil {
		return err
	}
	// The gate lets a SIGTERM stop new hook runs while running ones finish.
	gate := hook.NewGate(hook.ShellExecutor{})
	opts := hookserver.Options{
		Executor:      gate,
		HooksDir:      o.hooksDir,
		RestConfig:    cfg,
		ListenAddress: o.listenAddress,
		DebugAddress:  o.debugAddress,
		TempDir:       o.tmpDir,
		Logger:        logger,
		MetricsPrefix: o.metricsPrefix,
		JqLibraryPath: filepath.SplitList(o.jqLibraryPath),
		KeepTmpFiles:  o.keepTmpFiles,
		HookTimeout:   o.hookTimeout,

		ProxyHookJSONLogs: o.proxyHookJSON,

		AccumulateUngroupedMetrics: o.accumulate,
		Webhooks: []webhook.Options{
			o.validating.options(o.webhookNS, webhook.ServeAdmission),
			o.conversion.options(o.webhookNS, webhook.ServeConversion),
		},
	}
	opts.Webhooks[1].ConfigurationName = o.validating.configName
	if o.leaderElect {
		if o.leaseNamespace == "" {
			return fmt.Errorf("--leader-elect needs --lease-namespace (or POD_NAMESPACE)")
		}
		// A pod name is unique; without one hookserver makes a unique identity
		// (a bare hostname would let two processes on one host both lead).
		opts.LeaderElection = &hookserver.LeaderElection{Namespace: o.leaseNamespace, Name: o.leaseName, Identity: os.Getenv("POD_NAME")}
	}
	s, err := hookserver.New(opts)
	if err != nil {
		return err
	}
	ctx, stop := gracefulContext(ctx, logger, gate, o.shutdownGrace)
	defer stop()
	return s.Run(ctx)
}

// loadRestConfig reads kubeconfig the way kubectl does, falling back to the
// in-cluster config.
func loadRestConfig(kubeconfig, kubeContext string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cfg, nil
}

// envBool reads a boolean env var as shell-operator does ("true", "yes",
// "1"; anything else is false).
func envBool(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "true", "yes", "1", "on":
		return true
	}
	return false
}

// newCommandLogger is the stderr logger of a long-running command; client-go
// (leader election, reflectors) logs through it too, via klog: one stream,
// one format.
func newCommandLogger(level, format string) (*slog.Logger, error) {
	logger, err := newHooksLogger(os.Stderr, level, format)
	if err != nil {
		return nil, err
	}
	klog.SetSlogLogger(logger)
	return logger, nil
}

// newHooksLogger builds the serve logger from --log-level and --log-format
// (LOG_LEVEL, LOG_TYPE as shell-operator reads them).
func newHooksLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level (LOG_LEVEL) %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "color", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format (LOG_TYPE) %q: want text or json", format)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

type hooksDebugOptions struct {
	address string
	output  string
}

func (o *hooksDebugOptions) bind(cmd *cobra.Command, list bool) {
	cmd.Flags().StringVar(&o.address, "address", hookserver.DefaultDebugAddress, "debug address (--debug-address) of a running deckhand hooks serve")
	output.AddFlag(cmd.Flags(), &o.output, list)
}

func newHooksQueuesCommand() *cobra.Command {
	o := hooksDebugOptions{}
	cmd := &cobra.Command{
		Use:   "queues",
		Short: "Show the task queues of a running instance: length, running hook, failures",
		Example: `  # the instance started by deckhand hooks serve on this machine
  deckhand hooks queues

  # another instance's debug address; full last errors
  deckhand hooks queues --address 127.0.0.1:19652 -o wide`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			reply, err := hookserver.NewDebugClient(o.address).Queues(ctx)
			if err != nil {
				return err
			}
			names := make([]string, len(reply.Queues))
			for i, q := range reply.Queues {
				names[i] = q.Name
			}
			return output.PrintList(cmd.OutOrStdout(), o.output, reply, output.List{
				Names: names,
				Human: func(w io.Writer, wide bool) error {
					return output.WriteTable(w, func(tw io.Writer) error {
						output.Row(tw, "QUEUE", "LENGTH", "CURRENT", "FAILURES", "RETRY-IN", "LAST-ERROR")
						for _, q := range reply.Queues {
							current, retry := "-", "-"
							if q.Current != nil {
								current = q.Current.Subject
								if q.Current.Description != "" {
									current += " (" + q.Current.Description + ")"
								}
							}
							if q.RetryAt != nil {
								retry = time.Until(*q.RetryAt).Round(100 * time.Millisecond).String()
							}
							lastErr := oneLine(q.LastError, 80)
							if wide {
								// The whole error, folded onto one line.
								lastErr = oneLine(q.LastError, len(q.LastError)+3)
							}
							output.Row(tw, q.Name, q.Length, current, q.Failures, retry, lastErr)
						}
						return nil
					})
				},
			})
		},
	}
	o.bind(cmd, true)
	return cmd
}

func newHooksSnapshotsCommand() *cobra.Command {
	o := hooksDebugOptions{}
	cmd := &cobra.Command{
		Use:   "snapshots HOOK",
		Short: "Show the snapshots (filter results and objects) a hook of a running instance would get",
		Example: `  # HOOK is the hook's path under --hooks-dir
  deckhand hooks snapshots pods.sh

  # the full objects and filter results
  deckhand hooks snapshots pods.sh -o yaml`,
		Args: exactArgs("HOOK"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			snaps, err := hookserver.NewDebugClient(o.address).Snapshots(ctx, args[0])
			if err != nil {
				return err
			}
			bindings := slices.Sorted(maps.Keys(snaps.Snapshots))
			var names []string
			for _, b := range bindings {
				for _, obj := range snaps.Snapshots[b] {
					names = append(names, b+" "+objectName(obj.Object))
				}
			}
			return output.PrintList(cmd.OutOrStdout(), o.output, snaps, output.List{
				Names: names,
				Human: func(w io.Writer, wide bool) error {
					return output.WriteTable(w, func(tw io.Writer) error {
						output.Row(tw, "BINDING", "OBJECT", "FILTER-RESULT")
						for _, binding := range bindings {
							objs := snaps.Snapshots[binding]
							if len(objs) == 0 {
								output.Row(tw, binding, "-", "-")
							}
							for _, obj := range objs {
								result := compactJSON(obj.FilterResult)
								if !wide {
									result = oneLine(result, 80)
								}
								output.Row(tw, binding, objectName(obj.Object), result)
							}
						}
						return nil
					})
				},
			})
		},
	}
	o.bind(cmd, true)
	return cmd
}

func objectName(raw json.RawMessage) string {
	var obj struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"metadata"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &obj) != nil {
		return "-"
	}
	name := obj.Metadata.Name
	if obj.Metadata.Namespace != "" {
		name = obj.Metadata.Namespace + "/" + name
	}
	return obj.Kind + " " + name
}

func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "-"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// oneLine folds s onto one line and cuts it to max characters (runes, never
// in the middle of one), marking a cut with "...".
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		return string([]rune(s)[:max-3]) + "..."
	}
	if s == "" {
		return "-"
	}
	return s
}
