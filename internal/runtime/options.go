package runtime

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/queue"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// Defaults of addon-operator that deckhand keeps.
const (
	DefaultNamespace = "d8-system"
	DefaultConfigMap = "addon-operator"
	// DefaultResync is how often every enabled module is reconciled even
	// when nothing changed (a deleted resource is put back).
	DefaultResync = 5 * time.Minute
	// DefaultHookTimeout bounds one hook run.
	DefaultHookTimeout = hook.DefaultTimeout
)

// Options configure a Runtime.
type Options struct {
	// ModulesDirs are searched for modules, in order (MODULES_DIR).
	ModulesDirs []string
	// Modules are single module directories run besides those of
	// ModulesDirs (downloaded versions); a name found in both runs from here.
	Modules []ModuleDir
	// AllowEmpty starts with no modules at all: an operator adds them with
	// Deploy as they are downloaded.
	AllowEmpty bool
	// GlobalHooksDir holds global hooks and their openapi/ (GLOBAL_HOOKS_DIR; "" = none).
	GlobalHooksDir string
	// Namespace is where Helm releases and the ConfigMap live (ADDON_OPERATOR_NAMESPACE).
	Namespace string
	// ConfigMap is addon-operator's config ConfigMap (ADDON_OPERATOR_CONFIG_MAP);
	// "-" turns the ConfigMap backend off.
	ConfigMap string
	// ModuleConfigs reads deckhouse.io ModuleConfig objects (and writes
	// Module objects); false runs on the ConfigMap alone.
	ModuleConfigs bool
	// RestConfig reaches the cluster.
	RestConfig *rest.Config
	// Logger gets the runtime's and the hooks' logs (default slog.Default()).
	Logger *slog.Logger
	// Registry gets the runtime's metrics (nil: a private registry).
	Registry prometheus.Registerer
	// HookRegistry gets the metrics hooks write (nil: a private registry).
	HookRegistry prometheus.Registerer
	// Executor runs hook processes (default hook.ShellExecutor).
	Executor hook.Executor
	// Backoff overrides the retry delays of failed module reconciles and hooks.
	Backoff queue.BackoffFunc
	// Resync reconciles every enabled module this often (default DefaultResync).
	Resync time.Duration
	// HookTimeout bounds each hook run (default DefaultHookTimeout).
	HookTimeout time.Duration
	// HelmHistoryMax is how many release revisions Helm keeps (default 10).
	HelmHistoryMax int
	// HelmConcurrency bounds the Helm operations running at once (default 4;
	// modules of one weight still reconcile in parallel up to it).
	HelmConcurrency int
	// HelmTimeout bounds one Helm operation (default 20m, as addon-operator).
	HelmTimeout time.Duration
	// TempDir holds per-run hook files ("" = os.TempDir()).
	TempDir string
	// Env is added to every hook run.
	Env []string
	// Bundle enables modules whose module.yaml lists it in
	// accessibility.editions.<edition>.enabledInBundles (default "Default").
	Bundle string
	// Edition selects the accessibility entry (default "_default").
	Edition string
	// Webhooks are webhook servers for module hooks' admission and
	// conversion bindings (none: such bindings are not served).
	Webhooks []webhook.Options
	// Validators are validating webhooks answered in Go, served by the
	// first of Webhooks (deckhand's own ModuleConfig check).
	Validators []webhook.Validator
}

func (o *Options) defaults() {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.ConfigMap == "" {
		o.ConfigMap = DefaultConfigMap
	}
	if o.ConfigMap == "-" {
		o.ConfigMap = ""
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Executor == nil {
		o.Executor = hook.ShellExecutor{}
	}
	if o.Backoff == nil {
		o.Backoff = queue.DefaultBackoff
	}
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	if o.HookTimeout <= 0 {
		o.HookTimeout = DefaultHookTimeout
	}
	if o.HelmHistoryMax <= 0 {
		o.HelmHistoryMax = 10
	}
	if o.HelmConcurrency <= 0 {
		o.HelmConcurrency = 4
	}
	if o.HelmTimeout <= 0 {
		o.HelmTimeout = 20 * time.Minute
	}
	if o.Bundle == "" {
		o.Bundle = "Default"
	}
	if o.Edition == "" {
		o.Edition = "_default"
	}
}
