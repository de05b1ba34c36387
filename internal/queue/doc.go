// Package queue owns deckhand's named task queues: each queue is a FIFO run
// by its own goroutine, queues run in parallel, and a failing task is retried
// with capped exponential backoff at the head of its own queue only, so one
// broken hook never stalls the others.
//
// It knows nothing about hooks, bindings or Kubernetes: a Task carries an
// opaque payload and the caller's Handler interprets it. It must not import
// other deckhand packages.
package queue
