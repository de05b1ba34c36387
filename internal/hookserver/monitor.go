package hookserver

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/deckhand-dev/deckhand/internal/binding"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
)

// syncTimeout bounds the initial list of one binding; the enable task fails
// and is retried after it.
const syncTimeout = 2 * time.Minute

// monitorState is one kubernetes binding's watch plus the lock that holds
// its events back until the binding's Synchronization run succeeded, so a
// hook always sees Synchronization before any event of that binding.
type monitorState struct {
	id      string
	hook    *hookState
	binding hook.KubernetesBinding
	mon     *kube.Monitor

	mu       sync.Mutex
	unlocked bool
	buffered []hook.BindingContext
	synced   chan struct{} // closed on unlock
}

// enableKubernetes starts a watch per kubernetes binding of h, waits for the
// initial lists and queues the Synchronization runs: at the head of "main"
// for bindings in "main", at the tail of their own queue otherwise. Bindings
// in another queue with waitForSynchronization get a wait task in "main",
// so later startup steps run after their Synchronization (unlike
// shell-operator, which ignores the flag).
func (e *engine) enableKubernetes(ctx context.Context, h *hookState) error {
	var started []*monitorState
	for _, b := range h.Config.Kubernetes {
		m, err := e.startMonitor(ctx, h, b)
		if err != nil {
			return err
		}
		started = append(started, m)
	}
	var mainSyncs []*monitorState
	var waits []*monitorState
	for _, m := range started {
		b := m.binding
		if b.Watch.NoSynchronization || !b.ExecuteHookOnSynchronization {
			m.unlock(e)
			continue
		}
		if b.Queue == hook.DefaultQueue {
			mainSyncs = append(mainSyncs, m)
			continue
		}
		e.queues.Add(b.Queue, runTask(h, b.Name, b.AllowFailure, b.SynchronizationContext(m.id), m.id))
		if b.WaitForSynchronization {
			waits = append(waits, m)
		}
	}
	if len(waits) > 0 {
		e.queues.AddFirst(hook.DefaultQueue, queueTaskWait(h, waits))
	}
	for i := len(mainSyncs) - 1; i >= 0; i-- {
		m := mainSyncs[i]
		e.queues.AddFirst(hook.DefaultQueue, runTask(h, m.binding.Name, m.binding.AllowFailure, m.binding.SynchronizationContext(m.id), m.id))
	}
	return nil
}

// startMonitor starts (or, on a retried enable task, reuses) the watch of
// binding b and waits for its initial list.
func (e *engine) startMonitor(ctx context.Context, h *hookState, b hook.KubernetesBinding) (*monitorState, error) {
	id := monitorID(h.Name, b.Name)
	e.mu.Lock()
	m, ok := e.monitors[id]
	e.mu.Unlock()
	if ok {
		return m, nil
	}
	m = &monitorState{id: id, hook: h, binding: b, synced: make(chan struct{})}
	mon, err := kube.NewMonitor(e.client, binding.WatchSpec(b), func(ev kube.Event) { e.onEvent(m, ev) }, kube.WithLogger(e.s.log.With("hook", h.Name)), kube.WithJQLibraryPath(e.s.opts.JqLibraryPath...))
	if err != nil {
		return nil, fmt.Errorf("hook %s: %w", h.Name, err)
	}
	// The watch lives as long as the engine, not as long as this task.
	if err := mon.Start(e.ctx); err != nil {
		return nil, fmt.Errorf("hook %s: %w", h.Name, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if err := mon.WaitForSync(waitCtx); err != nil {
		mon.Stop()
		return nil, fmt.Errorf("hook %s: %w", h.Name, err)
	}
	m.mon = mon
	e.mu.Lock()
	e.monitors[id] = m
	e.mu.Unlock()
	return m, nil
}

func (e *engine) monitor(id string) *monitorState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.monitors[id]
}

// onEvent turns a watch event into a HookRun in the binding's queue, or
// buffers it while the binding's Synchronization has not run yet.
func (e *engine) onEvent(m *monitorState, ev kube.Event) {
	b := m.binding
	if ev.Type == kube.EventSynchronization {
		e.s.metrics.EventsReceived.WithLabelValues(m.hook.Name, b.Name, string(hook.TypeSynchronization)).Inc()
		return
	}
	we := hook.WatchEvent(ev.WatchEvent)
	e.s.metrics.EventsReceived.WithLabelValues(m.hook.Name, b.Name, string(we)).Inc()
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
	e.queues.Add(b.Queue, runTask(m.hook, b.Name, b.AllowFailure, bc))
}

// unlock lets the binding's events through, queueing the ones held back.
func (m *monitorState) unlock(e *engine) {
	m.mu.Lock()
	if m.unlocked {
		m.mu.Unlock()
		return
	}
	m.unlocked = true
	held := m.buffered
	m.buffered = nil
	close(m.synced)
	// Queue under the lock so newer events cannot overtake the held ones.
	for _, bc := range held {
		e.queues.Add(m.binding.Queue, runTask(m.hook, m.binding.Name, m.binding.AllowFailure, bc))
	}
	m.mu.Unlock()
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

func (e *engine) unlock(ids []string) {
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
