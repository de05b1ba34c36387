package queue

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// queue is one FIFO with its own worker.
type queue struct {
	name  string
	wake  chan struct{}
	front chan struct{} // signalled by AddFirst: a new head ends a retry wait

	mu        sync.Mutex
	tasks     []Task
	runningID uint64 // ID of the task the handler runs now, 0 when idle
	failedID  uint64 // ID of the task the failure fields below belong to
	failures  int
	lastErr   string
	retryAt   time.Time
}

func newQueue(name string) *queue {
	return &queue{name: name, wake: make(chan struct{}, 1), front: make(chan struct{}, 1)}
}

// push adds t at the front or the tail and returns the ID of the task that
// carries it. At the tail, t is first offered to combine with the last task
// if that one has not started: a burst of runs of one hook queued while it
// is busy then waits as one task instead of one per event, so the queue's
// length stays bounded by the hooks in it, not by the events. The result is
// the one next would produce at the head, since combining is associative
// and only ever merges neighbours.
func (q *queue) push(t Task, front bool, combine CombineFunc) uint64 {
	q.mu.Lock()
	id := t.ID
	switch n := len(q.tasks); {
	case front:
		q.tasks = slices.Insert(q.tasks, 0, t)
	case combine != nil && n > 0 && q.tasks[n-1].ID != q.runningID:
		if merged, ok := combine(q.tasks[n-1], t); ok {
			q.tasks[n-1] = merged
			id = merged.ID
			break
		}
		q.tasks = append(q.tasks, t)
	default:
		q.tasks = append(q.tasks, t)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	if front {
		select {
		case q.front <- struct{}{}:
		default:
		}
	}
	return id
}

// run is the worker loop; it returns when ctx is done.
func (q *queue) run(ctx context.Context, s *Set) {
	for {
		t, ok := q.next(ctx, s.combine)
		if !ok {
			return
		}
		err := callHandler(ctx, s.handler, q.name, t)
		if ctx.Err() != nil && err != nil {
			// Stopping: the failure is an effect of cancellation; keep the task.
			q.finish(t.ID)
			return
		}
		delay, retry := q.done(t, err, s.backoff)
		if err != nil {
			if retry {
				s.log.Warn("task failed, retrying", "queue", q.name, "hook", t.Subject, "task", t.Kind, "in", delay, "error", err)
			} else {
				s.log.Warn("task failed, allowFailure set, dropped", "queue", q.name, "hook", t.Subject, "task", t.Kind, "error", err)
			}
		}
		if !retry {
			continue
		}
		// A task put in front meanwhile runs first, without waiting.
		select {
		case <-q.front:
		default:
		}
		if !q.isHead(t.ID) {
			continue
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-q.front:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// next waits for a task, combines the head with its followers and marks it running.
func (q *queue) next(ctx context.Context, combine CombineFunc) (Task, bool) {
	for {
		if ctx.Err() != nil {
			return Task{}, false
		}
		q.mu.Lock()
		if len(q.tasks) > 0 {
			t := q.tasks[0]
			if combine != nil {
				for len(q.tasks) > 1 {
					merged, ok := combine(t, q.tasks[1])
					if !ok {
						break
					}
					t = merged
					q.tasks = slices.Delete(q.tasks, 1, 2)
				}
			}
			t.Attempt = 1
			if q.failedID == t.ID {
				t.Attempt = q.failures + 1
			}
			q.tasks[0] = t
			q.runningID = t.ID
			q.retryAt = time.Time{}
			q.mu.Unlock()
			return t, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return Task{}, false
		case <-q.wake:
		}
	}
}

// done records the result of a run; it returns the retry delay and whether to retry.
func (q *queue) done(t Task, err error, backoff BackoffFunc) (time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.runningID = 0
	if err == nil || t.AllowFailure {
		q.remove(t.ID)
		if q.failedID == t.ID {
			q.failedID, q.failures, q.lastErr, q.retryAt = 0, 0, "", time.Time{}
		}
		return 0, false
	}
	if q.failedID != t.ID {
		q.failedID, q.failures = t.ID, 0
	}
	q.failures++
	q.lastErr = err.Error()
	delay := backoff(q.failures)
	q.retryAt = time.Now().Add(delay)
	return delay, true
}

func (q *queue) isHead(id uint64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.tasks) > 0 && q.tasks[0].ID == id
}

func (q *queue) finish(id uint64) {
	q.mu.Lock()
	q.runningID = 0
	q.mu.Unlock()
}

func (q *queue) remove(id uint64) {
	for i := range q.tasks {
		if q.tasks[i].ID == id {
			q.tasks = slices.Delete(q.tasks, i, i+1)
			return
		}
	}
}

func (q *queue) status() Status {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := Status{Name: q.name, Length: len(q.tasks)}
	for _, t := range q.tasks {
		ts := taskStatus(t)
		ts.Running = t.ID == q.runningID
		st.Tasks = append(st.Tasks, ts)
		if ts.Running || (t.ID == q.failedID && st.Current == nil) {
			c := ts
			st.Current = &c
		}
	}
	if q.failedID != 0 {
		st.Failures = q.failures
		st.LastError = q.lastErr
		if !q.retryAt.IsZero() {
			r := q.retryAt
			st.RetryAt = &r
		}
	}
	return st
}

func callHandler(ctx context.Context, h Handler, queue string, t Task) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("task %s for hook %q panicked: %v\n%s", t.Kind, t.Subject, r, debug.Stack())
		}
	}()
	return h(ctx, queue, t)
}
