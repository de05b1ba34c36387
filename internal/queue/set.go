package queue

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Set is a group of named queues sharing one Handler. Queues are created on
// first use; each runs in its own goroutine once the Set is started.
type Set struct {
	handler Handler
	combine CombineFunc
	backoff BackoffFunc
	log     *slog.Logger

	mu      sync.Mutex
	queues  map[string]*queue
	nextID  uint64
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped bool
}

// Option configures a Set.
type Option func(*Set)

// WithCombine sets the function that merges consecutive tasks: a task added
// behind one that has not started yet, and the head with its followers
// before a run.
func WithCombine(f CombineFunc) Option { return func(s *Set) { s.combine = f } }

// WithBackoff replaces DefaultBackoff.
func WithBackoff(f BackoffFunc) Option { return func(s *Set) { s.backoff = f } }

// WithLogger sets the logger for failures and retries.
func WithLogger(l *slog.Logger) Option { return func(s *Set) { s.log = l } }

// NewSet returns a stopped Set that runs tasks with handler.
func NewSet(handler Handler, opts ...Option) *Set {
	s := &Set{
		handler: handler,
		backoff: DefaultBackoff,
		log:     slog.Default(),
		queues:  map[string]*queue{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Start starts a worker goroutine for every existing queue and for every
// queue created later. The workers stop when ctx is cancelled or Stop is called.
func (s *Set) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil || s.stopped {
		return
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	for _, q := range s.queues {
		s.startLocked(q)
	}
}

// Stop cancels all workers and waits for them (and any running handler) to
// return. Tasks still queued are kept but never run.
func (s *Set) Stop() {
	s.mu.Lock()
	s.stopped = true
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Add appends t to the named queue and returns the ID of the task that
// carries it: its own, or that of the task queued last when t was combined
// into it (see WithCombine).
func (s *Set) Add(queueName string, t Task) uint64 {
	return s.add(queueName, t, false)
}

// AddFirst puts t at the front of the named queue: it runs right after the
// task running now (shell-operator's "head tasks", used for Synchronization).
func (s *Set) AddFirst(queueName string, t Task) uint64 {
	return s.add(queueName, t, true)
}

func (s *Set) add(queueName string, t Task, front bool) uint64 {
	s.mu.Lock()
	s.nextID++
	t.ID = s.nextID
	t.QueuedAt = time.Now()
	q := s.queueLocked(queueName)
	s.mu.Unlock()
	return q.push(t, front, s.combine)
}

// Ensure creates the named queue if it does not exist yet (so it shows in
// status and metrics before its first task).
func (s *Set) Ensure(queueName string) {
	s.mu.Lock()
	s.queueLocked(queueName)
	s.mu.Unlock()
}

func (s *Set) queueLocked(name string) *queue {
	q, ok := s.queues[name]
	if !ok {
		q = newQueue(name)
		s.queues[name] = q
		if s.ctx != nil && !s.stopped {
			s.startLocked(q)
		}
	}
	return q
}

func (s *Set) startLocked(q *queue) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		q.run(s.ctx, s)
	}()
}

// Status reports every queue, sorted by name.
func (s *Set) Status() []Status {
	s.mu.Lock()
	qs := make([]*queue, 0, len(s.queues))
	for _, q := range s.queues {
		qs = append(qs, q)
	}
	s.mu.Unlock()
	out := make([]Status, 0, len(qs))
	for _, q := range qs {
		out = append(out, q.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lengths returns the number of tasks (including a running one) per queue.
func (s *Set) Lengths() map[string]int {
	out := map[string]int{}
	for _, st := range s.Status() {
		out[st.Name] = st.Length
	}
	return out
}
