package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/metrics"
	"github.com/deckhand-dev/deckhand/internal/queue"
	"github.com/deckhand-dev/deckhand/internal/schedule"
)

// Options are the parts an Engine runs hooks with.
type Options struct {
	// Client reaches the cluster for watches and object patches.
	Client *kube.Client
	// Executor runs hook processes (default hook.ShellExecutor).
	Executor hook.Executor
	// Metrics records runs, errors and events (required).
	Metrics *metrics.Runtime
	// Store keeps the metrics hooks write to METRICS_PATH (required).
	Store *metrics.Store
	// Logger gets the engine's and the hooks' logs (default slog.Default()).
	Logger *slog.Logger
	// Backoff overrides the retry delays of failed tasks.
	Backoff queue.BackoffFunc
	// Handle runs tasks of kinds the engine does not own; nil fails them.
	Handle queue.Handler
	// TempDir holds the per-run files of hooks ("" = os.TempDir()).
	TempDir string
	// Env is added to the environment of every hook run.
	Env []string
	// KeepTmpFiles leaves each run's files in TempDir (DEBUG_KEEP_TMP_FILES).
	KeepTmpFiles bool
	// ProxyHookJSONLogs logs JSON output lines as structured records.
	ProxyHookJSONLogs bool
	// JqLibraryPath lists directories searched for jq modules.
	JqLibraryPath []string
	// OnQueuedRun is told the result of every queued hook run (nil error:
	// success), so an owner can show a failing hook in its status.
	OnQueuedRun func(h *Hook, err error)
	// HookTimeout bounds one hook run; the hook's process group is killed
	// at the deadline and the run fails (0 = no limit, as shell-operator).
	HookTimeout time.Duration
}

// Engine runs hooks: queues, monitors, schedules, runs and their outputs.
type Engine struct {
	opts    Options
	log     *slog.Logger
	patcher *kube.Patcher
	queues  *queue.Set
	sched   *schedule.Scheduler

	mu       sync.Mutex
	ctx      context.Context // the engine's lifetime; watches live as long
	byName   map[string]*Hook
	monitors map[string]*monitorState // by monitor ID
}

// New returns a stopped Engine.
func New(opts Options) (*Engine, error) {
	if opts.Client == nil {
		return nil, errors.New("engine: a kubernetes client is required")
	}
	if opts.Metrics == nil || opts.Store == nil {
		return nil, errors.New("engine: runtime metrics and a metrics store are required")
	}
	if opts.Executor == nil {
		opts.Executor = hook.ShellExecutor{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Backoff == nil {
		opts.Backoff = queue.DefaultBackoff
	}
	e := &Engine{
		opts:     opts,
		log:      opts.Logger,
		patcher:  kube.NewPatcher(opts.Client),
		byName:   map[string]*Hook{},
		monitors: map[string]*monitorState{},
		ctx:      context.Background(),
	}
	e.queues = queue.NewSet(e.handle,
		queue.WithCombine(Combine),
		queue.WithBackoff(opts.Backoff),
		queue.WithLogger(opts.Logger))
	e.sched = schedule.New(e.onTick, schedule.WithLogger(opts.Logger))
	return e, nil
}

// Queues is the engine's queue set: owners add their tasks to it.
func (e *Engine) Queues() *queue.Set { return e.queues }

// Start runs the queues and the scheduler until ctx is done or Stop.
func (e *Engine) Start(ctx context.Context) {
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	e.queues.Start(ctx)
	e.sched.Start(ctx)
}

// Stop stops the scheduler, the queues (waiting for running tasks) and
// every watch.
func (e *Engine) Stop() {
	e.sched.Stop()
	e.queues.Stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, m := range e.monitors {
		m.stop()
		delete(e.monitors, id)
	}
}

// Add registers hooks (by name, which must be unique in the engine) and
// creates the queues of their bindings.
func (e *Engine) Add(hooks ...*Hook) {
	e.mu.Lock()
	for _, h := range hooks {
		e.byName[h.Name] = h
	}
	e.mu.Unlock()
	for _, h := range hooks {
		e.queues.Ensure(h.MainQueue())
		for _, b := range h.Config.Schedules {
			e.queues.Ensure(h.Queue(b.Queue))
		}
		for _, b := range h.Config.Kubernetes {
			e.queues.Ensure(h.Queue(b.Queue))
		}
	}
}

// Remove stops the watches and schedules of the named hooks and forgets
// them; their queued runs are dropped by the owner (queue.Set.Remove...).
func (e *Engine) Remove(names ...string) {
	for _, name := range names {
		e.sched.RemoveHook(name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, name := range names {
		h := e.byName[name]
		delete(e.byName, name)
		if h == nil {
			continue
		}
		for _, b := range h.Config.Kubernetes {
			id := monitorID(name, b.Name)
			if m := e.monitors[id]; m != nil {
				m.stop()
				delete(e.monitors, id)
			}
		}
	}
}

// Hook returns a registered hook by name.
func (e *Engine) Hook(name string) (*Hook, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h, ok := e.byName[name]
	return h, ok
}

// handle runs one task of any kind.
func (e *Engine) handle(ctx context.Context, queueName string, t queue.Task) error {
	switch t.Kind {
	case KindHookRun:
		return e.runTask(ctx, queueName, t)
	case KindEnableKubernetes:
		return e.enableKubernetes(ctx, t.Payload.(hookPayload).hook)
	case KindEnableSchedule:
		return e.EnableSchedules(t.Payload.(hookPayload).hook)
	case KindWaitSync:
		for _, m := range t.Payload.(waitPayload).monitors {
			select {
			case <-m.synced:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	if e.opts.Handle != nil {
		return e.opts.Handle(ctx, queueName, t)
	}
	return fmt.Errorf("unknown task kind %q", t.Kind)
}

// EnableSchedules registers the schedule bindings of h.
func (e *Engine) EnableSchedules(h *Hook) error {
	for _, b := range h.Config.Schedules {
		if err := e.sched.Add(h.Name, b.Name, b.Crontab); err != nil {
			return fmt.Errorf("hook %s: schedule %s: %w", h.Name, b.Name, err)
		}
	}
	return nil
}

// onTick queues one run per due schedule binding. The scheduler may call it
// concurrently: it reads byName under the lock and adds to the queue set
// and metrics, which lock.
func (e *Engine) onTick(t schedule.Tick) {
	h, ok := e.Hook(t.Hook)
	if !ok {
		return
	}
	for _, name := range t.Bindings {
		for _, b := range h.Config.Schedules {
			if b.Name != name || b.Crontab != t.Crontab {
				continue
			}
			e.opts.Metrics.EventsReceived.WithLabelValues(h.Name, b.Name, string(hook.TypeSchedule)).Inc()
			e.queues.Add(h.Queue(b.Queue), RunTask(h, b.Name, b.AllowFailure, b.Context()))
		}
	}
}

// Snapshot returns the current objects of one binding of a hook.
func (e *Engine) Snapshot(hookName, binding string) []hook.ObjectAndFilterResult {
	m := e.monitor(monitorID(hookName, binding))
	if m == nil {
		return nil
	}
	return m.snapshot()
}

func monitorID(hookName, binding string) string { return hookName + "#" + binding }

// SnapshotStates reports how many objects each started watch keeps.
func (e *Engine) SnapshotStates() []metrics.SnapshotState {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]metrics.SnapshotState, 0, len(e.monitors))
	for _, m := range e.monitors {
		out = append(out, metrics.SnapshotState{Hook: m.hook.Name, Binding: m.binding.Name, Objects: m.mon.Len()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Hook != out[j].Hook {
			return out[i].Hook < out[j].Hook
		}
		return out[i].Binding < out[j].Binding
	})
	return out
}

// QueueStates reports every queue's length and stuck head for metrics.
func (e *Engine) QueueStates() []metrics.QueueState {
	st := e.queues.Status()
	out := make([]metrics.QueueState, 0, len(st))
	for _, q := range st {
		qs := metrics.QueueState{Name: q.Name, Length: q.Length, Failures: q.Failures}
		if q.Current != nil {
			qs.Hook = q.Current.Subject
		}
		out = append(out, qs)
	}
	return out
}
