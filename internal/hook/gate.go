package hook

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrShuttingDown is returned by a Gate's Run for a hook that was not started
// because the process is shutting down.
var ErrShuttingDown = errors.New("not started: deckhand is shutting down")

// Gate wraps an Executor so a graceful shutdown can stop starting hooks while
// the running ones finish: after Drain, a new Run waits (without starting a
// process) until its context ends or Close is called, and Drain's channel
// tells when no hook runs any more. Waiting rather than failing keeps callers
// from recording a failure: they see the cancellation they see at any stop.
type Gate struct {
	next Executor

	mu       sync.Mutex
	running  int
	draining bool
	idle     chan struct{} // closed once draining and running == 0
	closed   chan struct{}
	once     sync.Once
}

var _ Executor = (*Gate)(nil)

// NewGate returns an open Gate running hooks with next.
func NewGate(next Executor) *Gate {
	return &Gate{next: next, idle: make(chan struct{}), closed: make(chan struct{})}
}

// Run runs h with the wrapped executor unless the Gate drains.
func (g *Gate) Run(ctx context.Context, h *Hook, contexts []BindingContext, opts RunOptions) (*Result, error) {
	g.mu.Lock()
	if g.draining {
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("hook %s %w (%w)", h.Name, ErrShuttingDown, ctx.Err())
		case <-g.closed:
			return nil, fmt.Errorf("hook %s %w", h.Name, ErrShuttingDown)
		}
	}
	g.running++
	g.mu.Unlock()
	defer g.finish()
	return g.next.Run(ctx, h, contexts, opts)
}

func (g *Gate) finish() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if g.draining && g.running == 0 {
		g.closeIdle()
	}
}

// Drain stops starting hooks and returns a channel closed once no hook
// started before runs any more.
func (g *Gate) Drain() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.draining {
		g.draining = true
		if g.running == 0 {
			g.closeIdle()
		}
	}
	return g.idle
}

// closeIdle closes idle once; mu is held.
func (g *Gate) closeIdle() {
	select {
	case <-g.idle:
	default:
		close(g.idle)
	}
}

// Running is the number of hook runs in progress.
func (g *Gate) Running() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.running
}

// Close releases the runs waiting since Drain with ErrShuttingDown, for
// callers whose context outlives the shutdown (a webhook request).
func (g *Gate) Close() {
	g.Drain()
	g.once.Do(func() { close(g.closed) })
}
