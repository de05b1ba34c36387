package hookserver

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/metrics"
	"github.com/deckhand-dev/deckhand/internal/queue"
	"github.com/deckhand-dev/deckhand/internal/schedule"
)

// engine runs the loaded hooks while this replica leads.
type engine struct {
	s       *Server
	hooks   []*hookState
	byName  map[string]*hookState
	client  *kube.Client
	patcher *kube.Patcher
	queues  *queue.Set
	sched   *schedule.Scheduler

	ctx      context.Context
	mu       sync.Mutex
	monitors map[string]*monitorState // by monitor ID
}

func newEngine(s *Server) (*engine, error) {
	client, err := kube.NewClient(s.opts.RestConfig)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	hooks := slices.Clone(s.hooks)
	byName := make(map[string]*hookState, len(s.byName))
	for k, v := range s.byName {
		byName[k] = v
	}
	s.mu.Unlock()
	e := &engine{
		s:        s,
		hooks:    hooks,
		byName:   byName,
		client:   client,
		patcher:  kube.NewPatcher(client),
		monitors: map[string]*monitorState{},
	}
	e.queues = queue.NewSet(e.handle,
		queue.WithCombine(combineRuns),
		queue.WithBackoff(s.opts.Backoff),
		queue.WithLogger(s.log))
	e.sched = schedule.New(e.onTick, schedule.WithLogger(s.log))
	return e, nil
}

// run queues the startup tasks and runs until ctx is done, then stops every
// goroutine it started.
func (e *engine) run(ctx context.Context) {
	e.ctx = ctx
	e.queues.Ensure(hook.DefaultQueue)
	for _, h := range e.hooks {
		for _, b := range h.Config.Schedules {
			e.queues.Ensure(b.Queue)
		}
		for _, b := range h.Config.Kubernetes {
			e.queues.Ensure(b.Queue)
		}
	}
	for _, h := range startupOrder(e.hooks) {
		e.queues.Add(hook.DefaultQueue, runTask(h, hook.OnStartupName, false, hook.OnStartupContext()))
	}
	for _, h := range e.hooks {
		if len(h.Config.Kubernetes) > 0 {
			e.queues.Add(hook.DefaultQueue, queue.Task{Hook: h.Name, Kind: kindEnableKubernetes, Payload: hookPayload{h}})
		}
		if len(h.Config.Schedules) > 0 {
			e.queues.Add(hook.DefaultQueue, queue.Task{Hook: h.Name, Kind: kindEnableSchedule, Payload: hookPayload{h}})
		}
	}
	e.queues.Add(hook.DefaultQueue, queue.Task{Kind: kindStarted})
	e.queues.Start(ctx)
	e.sched.Start(ctx)
	<-ctx.Done()
	e.sched.Stop()
	e.queues.Stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range e.monitors {
		m.stop()
	}
}

// startupOrder returns the onStartup hooks sorted by (order, name).
func startupOrder(hooks []*hookState) []*hookState {
	var out []*hookState
	for _, h := range hooks {
		if h.Config.OnStartup != nil {
			out = append(out, h)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := *out[i].Config.OnStartup, *out[j].Config.OnStartup
		if a != b {
			return a < b
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// handle runs one task of any kind.
func (e *engine) handle(ctx context.Context, queueName string, t queue.Task) error {
	switch t.Kind {
	case kindHookRun:
		return e.runHook(ctx, queueName, t)
	case kindEnableKubernetes:
		return e.enableKubernetes(ctx, t.Payload.(hookPayload).hook)
	case kindEnableSchedule:
		return e.enableSchedules(t.Payload.(hookPayload).hook)
	case kindWaitSync:
		for _, m := range t.Payload.(waitPayload).monitors {
			select {
			case <-m.synced:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	case kindStarted:
		e.s.setState(stateRunning, nil)
		e.s.log.Info("hooks started", "hooks", len(e.hooks))
		return nil
	}
	return fmt.Errorf("unknown task kind %q", t.Kind)
}

// enableSchedules registers the schedule bindings of h.
func (e *engine) enableSchedules(h *hookState) error {
	for _, b := range h.Config.Schedules {
		if err := e.sched.Add(h.Name, b.Name, b.Crontab); err != nil {
			return err
		}
	}
	return nil
}

// onTick queues one run per due schedule binding. The scheduler may call it
// concurrently: it only reads byName and the hook configs (fixed once the
// engine exists) and adds to the queue set and metrics, which lock.
func (e *engine) onTick(t schedule.Tick) {
	h, ok := e.byName[t.Hook]
	if !ok {
		return
	}
	for _, name := range t.Bindings {
		for _, b := range h.Config.Schedules {
			if b.Name != name || b.Crontab != t.Crontab {
				continue
			}
			e.s.metrics.EventsReceived.WithLabelValues(h.Name, b.Name, string(hook.TypeSchedule)).Inc()
			e.queues.Add(b.Queue, runTask(h, b.Name, b.AllowFailure, b.Context()))
		}
	}
}

// snapshot returns the current objects of one binding of a hook.
func (e *engine) snapshot(hookName, binding string) []hook.ObjectAndFilterResult {
	e.mu.Lock()
	m := e.monitors[monitorID(hookName, binding)]
	e.mu.Unlock()
	if m == nil {
		return nil
	}
	return m.snapshot()
}

func monitorID(hookName, binding string) string { return hookName + "#" + binding }

// snapshotStates reports how many objects each started watch keeps.
func (e *engine) snapshotStates() []metrics.SnapshotState {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]metrics.SnapshotState, 0, len(e.monitors))
	for _, m := range e.monitors {
		out = append(out, metrics.SnapshotState{Hook: m.hook.Name, Binding: m.binding.Name, Objects: m.mon.Len()})
	}
	return out
}
