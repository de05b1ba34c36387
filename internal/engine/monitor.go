package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/deckhand-dev/deckhand/internal/binding"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
)

// syncTimeout bounds the initial list of one binding; the enable step fails
// and is retried after it.
const syncTimeout = 2 * time.Minute

// monitorState is one kubernetes binding's watch plus the lock that holds
// its events back until the binding's Synchronization run succeeded, so a
// hook always sees Synchronization before any event of that binding.
type monitorState struct {
	id      string
	hook    *Hook
	binding hook.KubernetesBinding
	mon     *kube.Monitor

	mu       sync.Mutex
	unlocked bool
	buffered []hook.BindingContext
	synced   chan struct{} // closed on unlock
}

// enableKubernetes starts a watch per kubernetes binding of h, waits for the
// initial lists and queues the Synchronization runs: at the head of h's main
// queue for bindings in "main", at the tail of their own queue otherwise.
// Bindings in another queue with waitForSynchronization get a wait task in
// main, so later startup steps run after their Synchronization (unlike
// shell-operator, which ignores the flag).
func (e *Engine) enableKubernetes(ctx context.Context, h *Hook) error {
	started, err := e.startMonitors(ctx, h)
	if err != nil {
		return err
	}
	var mainSyncs, waits []*monitorState
	for _, m := range started {
		b := m.binding
		if b.Watch.NoSynchronization || !b.ExecuteHookOnSynchronization {
			m.unlock(e)
			continue
		}
		if h.Queue(b.Queue) == h.MainQueue() {
			mainSyncs = append(mainSyncs, m)
			continue
		}
		e.queues.Add(h.Queue(b.Queue), RunTask(h, b.Name, b.AllowFailure, b.SynchronizationContext(m.id), m.id))
		if b.WaitForSynchronization {
			waits = append(waits, m)
		}
	}
	if len(waits) > 0 {
		e.queues.AddFirst(h.MainQueue(), waitTask(h, waits))
	}
	for i := len(mainSyncs) - 1; i >= 0; i-- {
		m := mainSyncs[i]
		e.queues.AddFirst(h.MainQueue(), RunTask(h, m.binding.Name, m.binding.AllowFailure, m.binding.SynchronizationContext(m.id), m.id))
	}
	return nil
}

// SyncKubernetes starts h's watches and runs its Synchronization right
// here, one run per binding in binding order, then lets the bindings'
// events through: the module runtime's "QueueSynchronizationTasks" and
// "WaitForSynchronization" steps in one call. A failed Synchronization run
// of a binding without allowFailure fails the call; its watch stays locked
// and the next call retries that binding's run.
func (e *Engine) SyncKubernetes(ctx context.Context, h *Hook, queueName string) error {
	started, err := e.startMonitors(ctx, h)
	if err != nil {
		return err
	}
	for _, m := range started {
		if m.isUnlocked() {
			continue
		}
		b := m.binding
		if !b.Watch.NoSynchronization && b.ExecuteHookOnSynchronization {
			m.dropBuffered()
			err := e.Run(ctx, h, b.Name, queueName, []hook.BindingContext{b.SynchronizationContext(m.id)})
			if err != nil && !b.AllowFailure {
				return err
			}
		}
		m.unlock(e)
	}
	return nil
}

// startMonitors starts (or, on a retry, reuses) the watches of h's
// kubernetes bindings.
func (e *Engine) startMonitors(ctx context.Context, h *Hook) ([]*monitorState, error) {
	var started []*monitorState
	for _, b := range h.Config.Kubernetes {
		m, err := e.startMonitor(ctx, h, b)
		if err != nil {
			return nil, err
		}
		started = append(started, m)
	}
	return started, nil
}

// startMonitor starts (or reuses) the watch of binding b and waits for its
// initial list.
func (e *Engine) startMonitor(ctx context.Context, h *Hook, b hook.KubernetesBinding) (*monitorState, error) {
	id := monitorID(h.Name, b.Name)
	if m := e.monitor(id); m != nil {
		return m, nil
	}
	m := &monitorState{id: id, hook: h, binding: b, synced: make(chan struct{})}
	mon, err := kube.NewMonitor(e.opts.Client, binding.WatchSpec(b), func(ev kube.Event) { e.onEvent(m, ev) },
		kube.WithLogger(e.log.With("hook", h.Name)), kube.WithJQLibraryPath(e.opts.JqLibraryPath...))
	if err != nil {
		return nil, fmt.Errorf("hook %s: binding %s: %w", h.Name, b.Name, err)
	}
	// The watch lives as long as the engine, not as long as this task.
	e.mu.Lock()
	life := e.ctx
	e.mu.Unlock()
	if err := mon.Start(life); err != nil {
		return nil, fmt.Errorf("hook %s: binding %s: %w", h.Name, b.Name, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if err := mon.WaitForSync(waitCtx); err != nil {
		mon.Stop()
		return nil, fmt.Errorf("hook %s: binding %s: %w", h.Name, b.Name, err)
	}
	m.mon = mon
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.byName[h.Name]; !ok {
		// Removed while listing: do not leak the watch.
		mon.Stop()
		return nil, fmt.Errorf("hook %s was removed", h.Name)
	}
	e.monitors[id] = m
	return m, nil
}

func (e *Engine) monitor(id string) *monitorState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.monitors[id]
}

// onEvent turns a watch event into a HookRun in the binding's queue, or
// buffers it while the binding's Synchronization has not run yet.
func (e *Engine) onEvent(m *monitorState, ev kube.Event) {
	b := m.binding
	if ev.Type == kube.EventSynchronization {
		e.opts.Metrics.EventsReceived.WithLabelValues(m.hook.Name, b.Name, string(hook.TypeSynchronization)).Inc()
		return
	}
	we := hook.WatchEvent(ev.WatchEvent)
	e.opts.Metrics.EventsReceived.WithLabelValues(m.hook.Name, b.Name, string(we)).Inc()
	if !b.Watch.ExecutesOn(we) {
		return
	}
	var obj *hook.ObjectAndFilterResult
	if len(ev.Objects) > 0 {
		o := binding.Object(ev.Objects[0], binding.Filtered(b))
		obj = &o
	}
	bc := b.EventContext(we, obj)
	m.mu.Lock()
	if !m.unlocked {
		m.buffered = append(m.buffered, bc)
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	e.queues.Add(m.hook.Queue(b.Queue), RunTask(m.hook, b.Name, b.AllowFailure, bc))
}

// unlock lets the binding's events through, queueing the ones held back.
func (m *monitorState) unlock(e *Engine) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unlocked {
		return
	}
	m.unlocked = true
	held := m.buffered
	m.buffered = nil
	close(m.synced)
	// Queue under the lock so newer events cannot overtake the held ones.
	for _, bc := range held {
		e.queues.Add(m.hook.Queue(m.binding.Queue), RunTask(m.hook, m.binding.Name, m.binding.AllowFailure, bc))
	}
}

func (m *monitorState) isUnlocked() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unlocked
}

// dropBuffered forgets held-back events: the Synchronization run about to
// start reads a snapshot that already contains them.
func (m *monitorState) dropBuffered() {
	m.mu.Lock()
	if !m.unlocked {
		m.buffered = nil
	}
	m.mu.Unlock()
}

func (e *Engine) unlock(ids []string) {
	for _, id := range ids {
		if m := e.monitor(id); m != nil {
			m.unlock(e)
		}
	}
}

func (m *monitorState) snapshot() []hook.ObjectAndFilterResult {
	if m.mon == nil {
		return nil
	}
	return binding.Objects(m.binding, m.mon.Snapshot())
}

func (m *monitorState) stop() {
	if m.mon != nil {
		m.mon.Stop()
	}
}
