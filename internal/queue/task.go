package queue

import (
	"context"
	"time"
)

// Task is one unit of work in a queue. Payload is owned by the caller.
type Task struct {
	// ID is assigned by the queue when the task is added; it is unique per Set.
	ID uint64
	// Subject names what the task works on (a hook, a module); used for
	// status, metrics and combining.
	Subject string
	// Kind says what the task does (for example "HookRun"); status only.
	Kind string
	// Description is a short human-readable note (binding, event) shown in status.
	Description string
	// AllowFailure drops the task after a failed run instead of retrying it.
	AllowFailure bool
	// Payload is the caller's data (binding contexts, ...).
	Payload any
	// QueuedAt is set by the queue when the task is added.
	QueuedAt time.Time
	// Attempt is set by the queue when it hands the task to the handler: 1
	// for the first run, n+1 after n failed runs.
	Attempt int
}

// Handler runs one task. A nil error removes the task from its queue; an
// error keeps it at the head and retries it after a backoff (unless the task
// allows failure). The context is cancelled when the Set stops.
type Handler func(ctx context.Context, queue string, t Task) error

// CombineFunc merges next into head when both may run as one execution
// (shell-operator combines consecutive runs of the same hook into one run with
// several binding contexts). It returns the merged task and true, or false to
// stop combining at next. A queue applies it both when a task is added behind
// one that has not started and at the head before a run, so it must merge
// associatively: (a+b)+c equal to a+(b+c).
type CombineFunc func(head, next Task) (Task, bool)

// BackoffFunc returns how long to wait before retrying a task that has failed
// failures times in a row (failures >= 1).
type BackoffFunc func(failures int) time.Duration
