package queue

import "time"

// Status is a snapshot of one queue for metrics and debug output.
type Status struct {
	Name string `json:"name"`
	// Length counts queued tasks including the one running or waiting to be retried.
	Length int `json:"length"`
	// Current is the head task while it runs or waits for a retry.
	Current *TaskStatus `json:"current,omitempty"`
	// Failures counts consecutive failed runs of the head task.
	Failures int `json:"failures"`
	// LastError is the error of the last failed run of the head task.
	LastError string `json:"lastError,omitempty"`
	// RetryAt is when the failed head task runs again.
	RetryAt *time.Time `json:"retryAt,omitempty"`
	// Tasks lists the queued tasks in order (head first).
	Tasks []TaskStatus `json:"tasks,omitempty"`
}

// TaskStatus describes one task without its payload.
type TaskStatus struct {
	ID          uint64    `json:"id"`
	Subject     string    `json:"subject"`
	Kind        string    `json:"kind,omitempty"`
	Description string    `json:"description,omitempty"`
	QueuedAt    time.Time `json:"queuedAt"`
	// Running is true while the handler executes this task.
	Running bool `json:"running,omitempty"`
}

func taskStatus(t Task) TaskStatus {
	return TaskStatus{ID: t.ID, Subject: t.Subject, Kind: t.Kind, Description: t.Description, QueuedAt: t.QueuedAt}
}
