package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultPrefix prefixes the runtime's own metric names.
const DefaultPrefix = "deckhand_"

// hookRunBuckets returns shell-operator's hook_run_seconds buckets (a fresh
// slice each call: no package state to mutate).
func hookRunBuckets() []float64 {
	return []float64{0, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500}
}

// QueueState is what the runtime metrics need to know about one queue.
type QueueState struct {
	Name   string
	Length int
	// Hook is the hook of the head task while it runs or waits for a retry.
	Hook string
	// Failures counts consecutive failures of the head task (0 when healthy).
	Failures int
}

// Runtime holds the hook runtime's own metrics.
type Runtime struct {
	HookRunSeconds       *prometheus.HistogramVec // hook, binding, queue
	HookRunErrors        *prometheus.CounterVec   // hook, binding, queue
	HookRunAllowedErrors *prometheus.CounterVec   // hook, binding, queue
	HookRunSuccess       *prometheus.CounterVec   // hook, binding, queue
	EventsReceived       *prometheus.CounterVec   // hook, binding, type (kubernetes event type, Synchronization or Schedule)
	HookConfigErrors     *prometheus.GaugeVec     // hook: 1 while its --config is broken
	TaskWaitSeconds      *prometheus.CounterVec   // hook, binding, queue: total time tasks waited in queues
	HookRunUserCPU       *prometheus.HistogramVec // hook, binding, queue: user CPU seconds of a run
	HookRunSysCPU        *prometheus.HistogramVec // hook, binding, queue: system CPU seconds of a run
	HookRunMaxRSS        *prometheus.GaugeVec     // hook, binding, queue: max RSS bytes of the last run
}

// SnapshotState is the size of one kubernetes binding's snapshot.
type SnapshotState struct {
	Hook, Binding string
	Objects       int
}

// RuntimeOption configures NewRuntime.
type RuntimeOption func(*runtimeOptions)

type runtimeOptions struct {
	prefix    string
	queues    func() []QueueState
	snapshots func() []SnapshotState
}

// WithSnapshots exports kube_snapshot_objects{hook,binding} from f at every
// scrape: one value per binding, summed over all its watches (shell-operator
// reports per watch under the same labels, so its value flaps).
func WithSnapshots(f func() []SnapshotState) RuntimeOption {
	return func(o *runtimeOptions) { o.snapshots = f }
}

// WithPrefix replaces DefaultPrefix ("shell_operator_" gives shell-operator's names).
func WithPrefix(p string) RuntimeOption { return func(o *runtimeOptions) { o.prefix = p } }

// WithQueues exports tasks_queue_length{queue} and
// tasks_queue_head_failures{queue,hook} from f at every scrape.
func WithQueues(f func() []QueueState) RuntimeOption {
	return func(o *runtimeOptions) { o.queues = f }
}

// NewRuntime creates the runtime metrics and registers them with reg.
func NewRuntime(reg prometheus.Registerer, opts ...RuntimeOption) (*Runtime, error) {
	o := runtimeOptions{prefix: DefaultPrefix}
	for _, f := range opts {
		f(&o)
	}
	p := o.prefix
	hbq := []string{"hook", "binding", "queue"}
	r := &Runtime{
		HookRunSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: p + "hook_run_seconds", Help: "Duration of hook runs.", Buckets: hookRunBuckets(),
		}, hbq),
		HookRunErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: p + "hook_run_errors_total", Help: "Failed hook runs that will be retried.",
		}, hbq),
		HookRunAllowedErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: p + "hook_run_allowed_errors_total", Help: "Failed hook runs of bindings with allowFailure.",
		}, hbq),
		HookRunSuccess: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: p + "hook_run_success_total", Help: "Successful hook runs.",
		}, hbq),
		EventsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: p + "events_received_total", Help: "Events received for hook bindings (kubernetes events, synchronizations, schedule ticks).",
		}, []string{"hook", "binding", "type"}),
		HookConfigErrors: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: p + "hook_config_errors", Help: "1 while the hook's --config output is broken, else 0.",
		}, []string{"hook"}),
		TaskWaitSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: p + "task_wait_in_queue_seconds_total", Help: "Time tasks waited in their queue before running.",
		}, hbq),
		HookRunUserCPU: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: p + "hook_run_user_cpu_seconds", Help: "User CPU time of hook runs.", Buckets: hookRunBuckets(),
		}, hbq),
		HookRunSysCPU: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: p + "hook_run_sys_cpu_seconds", Help: "System CPU time of hook runs.", Buckets: hookRunBuckets(),
		}, hbq),
		HookRunMaxRSS: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: p + "hook_run_max_rss_bytes", Help: "Maximum resident set size of the last hook run.",
		}, hbq),
	}
	cs := []prometheus.Collector{r.HookRunSeconds, r.HookRunErrors, r.HookRunAllowedErrors, r.HookRunSuccess, r.EventsReceived,
		r.HookConfigErrors, r.TaskWaitSeconds, r.HookRunUserCPU, r.HookRunSysCPU, r.HookRunMaxRSS}
	if o.queues != nil {
		cs = append(cs, newQueueCollector(p, o.queues))
	}
	if o.snapshots != nil {
		cs = append(cs, &snapshotCollector{
			desc:   prometheus.NewDesc(p+"kube_snapshot_objects", "Objects kept in the snapshot of a kubernetes binding.", []string{"hook", "binding"}, nil),
			states: o.snapshots,
		})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering runtime metrics: %w", err)
		}
	}
	return r, nil
}

type queueCollector struct {
	length, failures *prometheus.Desc
	states           func() []QueueState
}

func newQueueCollector(prefix string, f func() []QueueState) *queueCollector {
	return &queueCollector{
		length:   prometheus.NewDesc(prefix+"tasks_queue_length", "Tasks in the queue, including the running one.", []string{"queue"}, nil),
		failures: prometheus.NewDesc(prefix+"tasks_queue_head_failures", "Consecutive failures of the task at the head of the queue; the hook label names the stuck hook.", []string{"queue", "hook"}, nil),
		states:   f,
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.length
	ch <- c.failures
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	for _, q := range c.states() {
		ch <- prometheus.MustNewConstMetric(c.length, prometheus.GaugeValue, float64(q.Length), q.Name)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(q.Failures), q.Name, q.Hook)
	}
}

type snapshotCollector struct {
	desc   *prometheus.Desc
	states func() []SnapshotState
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.states() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s.Objects), s.Hook, s.Binding)
	}
}
