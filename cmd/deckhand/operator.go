package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/operator"
	"github.com/deckhand-dev/deckhand/internal/release"
	"github.com/deckhand-dev/deckhand/internal/runtime"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

type operatorOptions struct {
	op          operator.Options
	modulesDir  string
	kubeconfig  string
	context     string
	logLevel    string
	logFormat   string
	leaderElect bool
	grace       time.Duration
	webhook     webhookFlags
}

func newOperatorCommand() *cobra.Command {
	var o operatorOptions
	cmd := &cobra.Command{
		Use:     "operator",
		GroupID: groupHooks,
		Short:   "Run the module system in a cluster: sources, releases, update policies and the modules",
		Long: `operator is deckhand in the cluster. It scans every ModuleSource for modules (every
--scan-interval, and at once when a source, a ModuleConfig or a ModuleUpdatePolicy
changes), creates a ModuleRelease for the version behind the channel each enabled
module's update policy follows, and moves releases through Pending, Deployed,
Superseded, Suspended and Skipped under the policy's mode (Auto, AutoPatch, Manual)
and windows. A release that may go is downloaded (every blob checked against its
digest), unpacked into --downloaded-dir/<module>/<version>, validated (module loads,
settings valid, chart renders) and handed to the module runtime; the previous version
runs until the new one converged, and stays when it does not (the release is then
Suspended with the reason). ModulePullOverrides run a tag instead.

Embedded modules (--modules-dir) run beside the downloaded ones, as with ` + "`deckhand run`" + `.
With --leader-elect, replicas share a Lease and only the leader acts; a stopping
leader releases it so another takes over at once. Serves /metrics and /metrics/hooks
on --metrics-bind-address, /healthz and /readyz on --health-probe-bind-address.`,
		Example: `  # against the current kubeconfig context, one replica
  deckhand operator --downloaded-dir /tmp/deckhand-downloaded

  # in a cluster (what the Helm chart in deploy/helm/deckhand runs)
  deckhand operator --leader-elect -n d8-system \
    --modules-dir /deckhand/modules --downloaded-dir /deckhand/downloaded

  # then, as a user
  kubectl get modulesources,modules,modulereleases
  deckhand status hello`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newCommandLogger(o.logLevel, o.logFormat)
			if err != nil {
				return err
			}
			cfg, err := loadRestConfig(o.kubeconfig, o.context)
			if err != nil {
				return err
			}
			// The gate lets a SIGTERM stop new hook runs while running ones finish.
			gate := hook.NewGate(hook.ShellExecutor{})
			ctx, stop := gracefulContext(cmd.Context(), logger, gate, o.grace)
			defer stop()
			o.op.Executor = gate
			o.op.RestConfig, o.op.Logger, o.op.LeaderElect = cfg, logger, o.leaderElect
			if o.modulesDir != "" {
				o.op.ModulesDirs = filepath.SplitList(o.modulesDir)
			}
			if o.webhook.address != "" {
				wo := o.webhook.options(o.op.Namespace, webhook.ServeAll)
				wo.ListenAddress = o.webhook.address
				o.op.Webhook = &wo
			}
			return operator.Run(ctx, o.op)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.modulesDir, "modules-dir", os.Getenv("MODULES_DIR"), "embedded module directories, separated by "+string(filepath.ListSeparator)+" (env MODULES_DIR)")
	f.StringVar(&o.op.GlobalHooksDir, "global-hooks-dir", os.Getenv("GLOBAL_HOOKS_DIR"), "global hooks directory (env GLOBAL_HOOKS_DIR)")
	f.StringVar(&o.op.DownloadedDir, "downloaded-dir", envOr("DOWNLOADED_MODULES_DIR", "/deckhand/downloaded"), "where downloaded module versions are unpacked (env DOWNLOADED_MODULES_DIR)")
	f.StringVarP(&o.op.Namespace, "namespace", "n", envOr("ADDON_OPERATOR_NAMESPACE", runtime.DefaultNamespace), "namespace of the modules' Helm releases and the leader Lease (env ADDON_OPERATOR_NAMESPACE)")
	f.StringVar(&o.op.ConfigMap, "config-map", envOr("ADDON_OPERATOR_CONFIG_MAP", "-"), `addon-operator's config ConfigMap ("-" for none: ModuleConfig objects only)`)
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&o.context, "context", "", "kubeconfig context")
	f.BoolVar(&o.leaderElect, "leader-elect", false, "take turns with other replicas through a Lease; only the leader acts")
	f.StringVar(&o.op.LeaderElectionID, "leader-election-id", operator.DefaultLeaderElectionID, "name of the leader Lease")
	f.StringVar(&o.op.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader Lease (default: --namespace)")
	f.StringVar(&o.op.MetricsAddr, "metrics-bind-address", ":9650", `address of /metrics and /metrics/hooks ("0" disables)`)
	f.StringVar(&o.op.ProbeAddr, "health-probe-bind-address", ":9651", `address of /healthz and /readyz ("0" disables)`)
	f.DurationVar(&o.op.ScanInterval, "scan-interval", release.DefaultScanInterval, "how often each ModuleSource is scanned")
	f.DurationVar(&o.op.HookTimeout, "hook-timeout", runtime.DefaultHookTimeout, "kill a hook run (its whole process group) after this long and fail it; the module is retried with backoff")
	addShutdownGraceFlag(f, &o.grace)
	f.DurationVar(&o.op.Resync, "resync", runtime.DefaultResync, "reconcile every enabled module this often even when nothing changed")
	f.BoolVar(&o.op.InstallCRDs, "install-crds", true, "create or update the deckhouse.io CRDs at start")
	f.StringVar(&o.webhook.address, "webhook-listen-address", os.Getenv("WEBHOOK_LISTEN_ADDRESS"), `HTTPS address (host:port) of the webhook server for module hooks' admission and conversion bindings and the ModuleConfig check ("" = off)`)
	f.StringVar(&o.webhook.serviceName, "webhook-service-name", envOr("WEBHOOK_SERVICE_NAME", "deckhand-webhook"), "Service the API server calls for the webhooks")
	f.StringVar(&o.webhook.url, "webhook-url", os.Getenv("WEBHOOK_URL"), "register this base URL instead of the Service")
	f.StringVar(&o.webhook.cert, "webhook-server-cert", envOr("WEBHOOK_SERVER_CERT", "/webhook-certs/tls.crt"), "serving certificate, reloaded on change; absent: generated")
	f.StringVar(&o.webhook.key, "webhook-server-key", envOr("WEBHOOK_SERVER_KEY", "/webhook-certs/tls.key"), "serving key")
	f.StringVar(&o.webhook.ca, "webhook-ca", envOr("WEBHOOK_CA", "/webhook-certs/ca.crt"), "CA bundle registered for the API server")
	f.StringVar(&o.webhook.configName, "webhook-configuration-name", "deckhand-operator", "name of the Validating/MutatingWebhookConfiguration")
	f.StringVar(&o.logLevel, "log-level", envOr("LOG_LEVEL", "info"), "log level: debug, info, warn or error (env LOG_LEVEL)")
	f.StringVar(&o.logFormat, "log-format", envOr("LOG_TYPE", "text"), "log format: text or json (env LOG_TYPE)")
	return cmd
}
