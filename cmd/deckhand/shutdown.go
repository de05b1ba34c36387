package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/deckhand-dev/deckhand/internal/hook"
)

// defaultShutdownGrace stays below Kubernetes' default
// terminationGracePeriodSeconds (30s): after it deckhand still has to kill
// the hooks left, release its Lease and exit before the kubelet's SIGKILL.
const defaultShutdownGrace = 20 * time.Second

// killWait bounds how long stopping waits for killed hooks to be reaped, so
// no hook process outlives deckhand even where an owner returns early.
const killWait = 10 * time.Second

// addShutdownGraceFlag registers --shutdown-grace.
func addShutdownGraceFlag(f *pflag.FlagSet, grace *time.Duration) {
	f.DurationVar(grace, "shutdown-grace", defaultShutdownGrace,
		"on SIGTERM or SIGINT start no new hook run and give the running ones this long to finish, then kill their process groups (a second signal kills at once)")
}

// gracefulContext returns a context that ends when parent does (main
// cancels it on SIGTERM or SIGINT), but only once the hook runs of gate have
// finished or grace has passed; meanwhile gate starts no new run. Ending it
// kills the hooks still running (their process groups), as any cancellation
// does; so does a further SIGTERM or SIGINT during the grace. stop releases
// the goroutine and, before it returns, waits (up to killWait) for the
// killed hooks to be reaped.
func gracefulContext(parent context.Context, log *slog.Logger, gate *hook.Gate, grace time.Duration) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Runs waiting at the gate end with the context; Close also ends
		// those whose own context lives on (a webhook request), so nothing
		// waits for a shutdown that waits for it.
		defer gate.Close()
		defer cancel()
		select {
		case <-ctx.Done():
			return
		case <-parent.Done():
		}
		// Registered only now, so the signal that stopped parent is not
		// taken for a second one.
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		idle := gate.Drain()
		log.Info("shutting down: starting no new hook run", "reason", context.Cause(parent).Error(), "running", gate.Running(), "grace", grace)
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-idle:
		case <-timer.C:
			log.Warn("shutdown grace period over: killing the running hooks", "running", gate.Running(), "grace", grace)
		case sig := <-sigs:
			log.Warn("second signal: killing the running hooks", "signal", sig.String(), "running", gate.Running())
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		cancel()
		<-done
		timer := time.NewTimer(killWait)
		defer timer.Stop()
		select {
		case <-gate.Drain():
		case <-timer.C:
			log.Warn("hooks still running after they were killed", "running", gate.Running())
		}
	}
}
