package hook

import (
	"context"
	"errors"
	"testing"
	"time"
)

// blockingExecutor runs until release is closed and counts its starts.
type blockingExecutor struct {
	started chan string
	release chan struct{}
}

func (b blockingExecutor) Run(ctx context.Context, h *Hook, _ []BindingContext, _ RunOptions) (*Result, error) {
	b.started <- h.Name
	select {
	case <-b.release:
		return &Result{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Drain lets a running hook finish, starts no new one and reports idle only
// once the running one returned; Close releases the waiting run.
func TestGateDrain(t *testing.T) {
	ex := blockingExecutor{started: make(chan string, 2), release: make(chan struct{})}
	g := NewGate(ex)
	first := make(chan error, 1)
	go func() {
		_, err := g.Run(context.Background(), &Hook{Name: "running"}, nil, RunOptions{})
		first <- err
	}()
	if name := <-ex.started; name != "running" {
		t.Fatalf("started %q", name)
	}
	idle := g.Drain()
	second := make(chan error, 1)
	go func() {
		_, err := g.Run(context.Background(), &Hook{Name: "late"}, nil, RunOptions{})
		second <- err
	}()
	select {
	case <-idle:
		t.Fatal("idle while a hook runs")
	case err := <-second:
		t.Fatalf("a run after Drain returned before Close: %v", err)
	default:
	}
	close(ex.release)
	if err := <-first; err != nil {
		t.Fatalf("the running hook: %v", err)
	}
	<-idle
	if n := g.Running(); n != 0 {
		t.Fatalf("running = %d after idle", n)
	}
	g.Close()
	if err := <-second; !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("want ErrShuttingDown for the late run, got %v", err)
	}
	select {
	case name := <-ex.started:
		t.Fatalf("hook %s started after Drain", name)
	default:
	}
}

// A run waiting on a drained gate returns when its own context ends, with
// the cancellation as its cause.
func TestGateWaitingRunFollowsItsContext(t *testing.T) {
	g := NewGate(blockingExecutor{started: make(chan string, 1), release: make(chan struct{})})
	<-g.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Run(ctx, &Hook{Name: "late"}, nil, RunOptions{}); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("got %v", err)
	}
}
