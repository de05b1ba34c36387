package hookserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/metrics"
	"github.com/deckhand-dev/deckhand/internal/queue"
)

// runHook executes one (possibly combined) HookRun task: it waits for the
// hook's rate limiter, reads fresh snapshots, runs the hook and, only when it
// succeeded and both output files are valid, applies the object patches and
// then the metrics. Watches whose Synchronization the run carried are
// unlocked afterwards, also when the run failed with allowFailure (which
// counts as success, the task is not retried).
func (e *engine) runHook(ctx context.Context, queueName string, t queue.Task) error {
	p := t.Payload.(*runPayload)
	h := p.hook
	if h.limiter != nil {
		if err := h.limiter.Wait(ctx); err != nil {
			return fmt.Errorf("hook %s: waiting for executionMinInterval: %w", h.Name, err)
		}
	}
	// Events buffered before the snapshot is read are part of it.
	for _, id := range p.monitorIDs {
		if m := e.monitor(id); m != nil {
			m.dropBuffered()
		}
	}
	contexts := hook.RefreshSnapshots(p.contexts, func(binding string) []hook.ObjectAndFilterResult {
		return e.snapshot(h.Name, binding)
	})
	labels := []string{h.Name, p.binding, queueName}
	// A retried task waited in its queue only before its first run; the
	// retry delays are not queue wait.
	if t.Attempt <= 1 {
		e.s.metrics.TaskWaitSeconds.WithLabelValues(labels...).Add(time.Since(t.QueuedAt).Seconds())
	}

	start := time.Now()
	res, runErr := e.s.opts.Executor.Run(ctx, &h.Hook, contexts, hook.RunOptions{
		TmpDir:        e.s.opts.TempDir,
		Env:           e.s.opts.Env,
		Logger:        e.s.log.With("binding", p.binding, "queue", queueName),
		KeepFiles:     e.s.opts.KeepTmpFiles,
		ProxyJSONLogs: e.s.opts.ProxyHookJSONLogs,
	})
	e.s.metrics.HookRunSeconds.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
	if res != nil {
		e.s.metrics.HookRunUserCPU.WithLabelValues(labels...).Observe(res.UserCPU.Seconds())
		e.s.metrics.HookRunSysCPU.WithLabelValues(labels...).Observe(res.SystemCPU.Seconds())
		e.s.metrics.HookRunMaxRSS.WithLabelValues(labels...).Set(float64(res.MaxRSSBytes))
	}

	err := runErr
	if err == nil {
		err = e.applyOutputs(ctx, h, res)
	} else if res != nil {
		e.applyOnHookError(ctx, h, res)
	}
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if t.AllowFailure {
			e.s.metrics.HookRunAllowedErrors.WithLabelValues(labels...).Inc()
			// allowFailure counts as success: the queue drops the task, so
			// the watch must be unlocked now or its events pile up forever.
			e.unlock(p.monitorIDs)
		} else {
			e.s.metrics.HookRunErrors.WithLabelValues(labels...).Inc()
		}
		return err
	}
	e.s.metrics.HookRunSuccess.WithLabelValues(labels...).Inc()
	e.unlock(p.monitorIDs)
	return nil
}

// applyOutputs parses both output files first, so a malformed file applies
// nothing, then applies the patches and the metrics.
func (e *engine) applyOutputs(ctx context.Context, h *hookState, res *hook.Result) error {
	ops, err := kube.ParseOperations(res.KubernetesPatch)
	if err != nil {
		return fmt.Errorf("hook %s: %s: %w", h.Name, hook.EnvKubernetesPatchPath, err)
	}
	mops, err := metrics.Parse(res.Metrics)
	if err != nil {
		return fmt.Errorf("hook %s: %s: %w", h.Name, hook.EnvMetricsPath, err)
	}
	if err := e.s.store.Check(h.Name, mops, nil); err != nil {
		return fmt.Errorf("%s: %w", hook.EnvMetricsPath, err)
	}
	if len(ops) > 0 {
		if err := e.patcher.Apply(ctx, ops); err != nil {
			return fmt.Errorf("hook %s: applying %s: %w", h.Name, hook.EnvKubernetesPatchPath, err)
		}
	}
	if err := e.s.store.Apply(h.Name, mops, nil); err != nil {
		return fmt.Errorf("%s: %w", hook.EnvMetricsPath, err)
	}
	return nil
}

// applyOnHookError applies the status patches marked ignoreHookError of a
// failed run, as shell-operator does; problems are only logged, the run has
// failed already.
func (e *engine) applyOnHookError(ctx context.Context, h *hookState, res *hook.Result) {
	ops, err := kube.ParseOperations(res.KubernetesPatch)
	if err != nil {
		return
	}
	ops = kube.OperationsOnHookError(ops)
	if len(ops) == 0 {
		return
	}
	if err := e.patcher.Apply(ctx, ops); err != nil && !errors.Is(err, context.Canceled) {
		e.s.log.Warn("applying ignoreHookError patches of a failed run", "hook", h.Name, "error", err)
	}
}
