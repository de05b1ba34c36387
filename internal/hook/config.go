package hook

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// Config versions accepted in a hook's --config output.
const (
	ConfigV0 = "v0"
	ConfigV1 = "v1"
)

// DefaultQueue is the queue a binding runs in when it names none.
const DefaultQueue = "main"

// Default binding names, as shell-operator assigns them.
const (
	DefaultScheduleName     = "schedule"
	DefaultKubernetesName   = "kubernetes"
	DefaultKubernetesNameV0 = "onKubernetesEvent"
	OnStartupName           = "onStartup"
)

// Config is the validated, defaulted configuration of one hook.
type Config struct {
	// Version is ConfigV0 or ConfigV1; it selects the binding context format.
	Version string
	// OnStartup is the order of the onStartup binding; nil when absent.
	OnStartup *int
	// Schedules are the schedule bindings in declaration order.
	Schedules []ScheduleBinding
	// Kubernetes are the kubernetes bindings in declaration order
	// (onKubernetesEvent for v0 hooks).
	Kubernetes []KubernetesBinding
	// Settings is the per-hook rate limit; nil means unlimited.
	Settings *Settings
	// Lifecycle holds addon-operator order bindings (beforeHelm, afterHelm,
	// beforeDeleteHelm, afterDeleteHelm for module hooks; beforeAll, afterAll
	// for global hooks). Empty for plain shell-operator hooks.
	Lifecycle map[BindingType]int
	// Validating, Mutating and Conversion are shell-operator's webhook
	// bindings; they run synchronously from the webhook server, not from
	// queues.
	Validating []AdmissionBinding
	Mutating   []AdmissionBinding
	Conversion []ConversionBinding
}

// ScheduleBinding is one item of `schedule`.
type ScheduleBinding struct {
	// Name is the binding name ("schedule" by default).
	Name string
	// Crontab is the cron expression as written: 5 fields (minutes), 6 fields
	// (seconds first), @every <duration>, @hourly-style descriptors, optional
	// TZ= or CRON_TZ= prefix. It was checked with schedule.Parse at load time.
	Crontab      string
	AllowFailure bool
	// Queue is the queue name ("main" by default).
	Queue string
	// Group, when set, makes every run of this binding a "Group" context.
	Group string
	// IncludeSnapshotsFrom lists kubernetes binding names whose snapshots are
	// passed; for a grouped binding the group's bindings are merged in.
	IncludeSnapshotsFrom []string
}

// KubernetesBinding is one item of `kubernetes` (or v0 `onKubernetesEvent`).
type KubernetesBinding struct {
	// Name is the binding name ("kubernetes", or "onKubernetesEvent" for v0).
	Name string
	// Watch is everything a watcher needs to list, watch, filter and decide
	// which events run the hook. It is self-contained on purpose.
	Watch WatchSpec
	// ExecuteHookOnSynchronization: false still creates the Synchronization
	// task (to unlock events) but does not run the hook. Default true.
	ExecuteHookOnSynchronization bool
	// WaitForSynchronization is true by default; false is only honoured when
	// Queue was set explicitly (as in shell-operator).
	WaitForSynchronization bool
	AllowFailure           bool
	// Queue is the queue name ("main" by default, always "main" for v0).
	Queue string
	// Group, when set, makes every run of this binding a "Group" context.
	Group string
	// IncludeSnapshotsFrom lists kubernetes binding names whose snapshots are
	// passed (self-include allowed); group members are merged in.
	IncludeSnapshotsFrom []string
	// ResynchronizationPeriod is accepted for compatibility; shell-operator
	// does not use it and neither does deckhand.
	ResynchronizationPeriod string
}

// WatchEvent is a watch event type a binding reacts to.
type WatchEvent string

// Watch event types, as written in executeHookOnEvent and in binding contexts.
const (
	WatchEventAdded    WatchEvent = "Added"
	WatchEventModified WatchEvent = "Modified"
	WatchEventDeleted  WatchEvent = "Deleted"
)

// allWatchEvents is the executeHookOnEvent default.
var allWatchEvents = []WatchEvent{WatchEventAdded, WatchEventModified, WatchEventDeleted}

// AllWatchEvents returns a fresh copy of the default executeHookOnEvent list.
func AllWatchEvents() []WatchEvent { return append([]WatchEvent(nil), allWatchEvents...) }

// WatchSpec describes which objects a kubernetes binding watches and how each
// object is reduced before it is kept and handed to the hook.
type WatchSpec struct {
	// APIVersion is "group/version" or "version"; empty means the preferred
	// version discovered for Kind.
	APIVersion string
	// Kind is a kind, plural or short name, resolved through discovery.
	Kind string
	// NameSelector is nameSelector.matchNames (v0: objectName): one watch per
	// name, as a metadata.name field selector. Empty means any name.
	NameSelector []string
	// LabelSelector is labelSelector (v0: selector); nil means everything.
	LabelSelector *metav1.LabelSelector
	// FieldSelector is fieldSelector.matchExpressions, ANDed; operators are
	// normalised to "=" or "!=".
	FieldSelector []FieldRequirement
	// Namespace selects namespaces; the zero value means all namespaces.
	Namespace NamespaceSelector
	// JqFilter is a jq program (already checked to compile with gojq);
	// its output becomes filterResult and drives change detection.
	JqFilter string
	// ExecuteHookOnEvent lists the events that run the hook; empty (non-nil)
	// means none (snapshot-only binding). Default: all three.
	ExecuteHookOnEvent []WatchEvent
	// KeepFullObjectsInMemory false means only filterResult is kept and the
	// binding context carries no "object". Default true.
	KeepFullObjectsInMemory bool
	// NoSynchronization is true for v0 bindings: no Synchronization context
	// is ever sent to the hook, events flow right away.
	NoSynchronization bool
}

// FieldRequirement is one fieldSelector expression.
type FieldRequirement struct {
	Field string
	// Operator is "=" or "!=" (Equals, == and NotEquals are normalised).
	Operator string
	Value    string
}

// NamespaceSelector picks the namespaces a binding watches.
type NamespaceSelector struct {
	// MatchNames are static namespace names: one watch per namespace.
	MatchNames []string
	// LabelSelector selects namespaces dynamically by their labels.
	LabelSelector *metav1.LabelSelector
}

// FieldSelectorString renders the field selector as the API server expects
// it ("a=b,c!=d"); "" when there is none.
func (w WatchSpec) FieldSelectorString() string {
	if len(w.FieldSelector) == 0 {
		return ""
	}
	terms := make([]fields.Selector, 0, len(w.FieldSelector))
	for _, r := range w.FieldSelector {
		if r.Operator == "!=" {
			terms = append(terms, fields.OneTermNotEqualSelector(r.Field, r.Value))
		} else {
			terms = append(terms, fields.OneTermEqualSelector(r.Field, r.Value))
		}
	}
	return fields.AndSelectors(terms...).String()
}

// ExecutesOn reports whether an event of type ev runs the hook.
func (w WatchSpec) ExecutesOn(ev WatchEvent) bool {
	for _, e := range w.ExecuteHookOnEvent {
		if e == ev {
			return true
		}
	}
	return false
}

// Settings is the per-hook execution rate limit (a token bucket).
type Settings struct {
	// ExecutionMinInterval is the refill interval of the bucket.
	ExecutionMinInterval time.Duration
	// ExecutionBurst is the bucket size.
	ExecutionBurst int
}

// BindingType names a kind of binding; it is also the binding name of
// onStartup and of addon-operator lifecycle bindings.
type BindingType string

// Binding types.
const (
	BindingOnStartup        BindingType = "onStartup"
	BindingSchedule         BindingType = "schedule"
	BindingKubernetes       BindingType = "kubernetes"
	BindingBeforeHelm       BindingType = "beforeHelm"
	BindingAfterHelm        BindingType = "afterHelm"
	BindingBeforeDeleteHelm BindingType = "beforeDeleteHelm"
	BindingAfterDeleteHelm  BindingType = "afterDeleteHelm"
	BindingBeforeAll        BindingType = "beforeAll"
	BindingAfterAll         BindingType = "afterAll"
)

// Hook is one discovered hook with its loaded configuration.
type Hook struct {
	// Name is the path relative to the hooks dir ("002-pods/hook.sh"); it is
	// the hook's identity in logs, metrics and queues.
	Name string
	// Path is the absolute path of the executable.
	Path string
	// Config is the validated configuration from `Path --config` (or, for
	// a hook of a module-sdk bundle, its entry in `Path hook config`).
	Config Config
	// Interpreter, when set, is the program actually run, with Path as its
	// first argument: a module's Python venv for *.py hooks.
	Interpreter string
	// Args are passed after Path on every run, not on --config: a bundle
	// hook's "hook run <index>".
	Args []string
	// Env is added to the environment of every run and --config of this
	// hook (PYTHONHOME of a Python venv).
	Env []string
	// Batch is set for a hook that is one entry of a module-sdk bundle.
	Batch *BatchHook
}

// command is the program and arguments of a run of h.
func (h *Hook) command() (string, []string) {
	if h.Interpreter != "" {
		return h.Interpreter, append([]string{h.Path}, h.Args...)
	}
	return h.Path, h.Args
}

// Binding returns the kubernetes binding with the given name.
func (c *Config) Binding(name string) (KubernetesBinding, bool) {
	for _, b := range c.Kubernetes {
		if b.Name == name {
			return b, true
		}
	}
	return KubernetesBinding{}, false
}
