package engine

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

// runTask executes one (possibly combined) HookRun task. Watches whose
// Synchronization the run carried are unlocked afterwards, also when the
// run failed with allowFailure (which counts as success, the task is not
// retried).
func (e *Engine) runTask(ctx context.Context, queueName string, t queue.Task) error {
	p := t.Payload.(*runPayload)
	h := p.hook
	if cur, ok := e.Hook(h.Name); !ok || cur != h {
		// The hook was removed (its module was disabled) after this run
		// was queued: nothing of it may run any more.
		return nil
	}
	// Events buffered before the snapshot is read are part of it.
	for _, id := range p.monitorIDs {
		if m := e.monitor(id); m != nil {
			m.dropBuffered()
		}
	}
	// A retried task waited in its queue only before its first run; the
	// retry delays are not queue wait.
	if t.Attempt <= 1 {
		e.opts.Metrics.TaskWaitSeconds.WithLabelValues(h.Name, p.binding, queueName).Add(time.Since(t.QueuedAt).Seconds())
	}
	_, err := e.run(ctx, h, p.binding, queueName, p.contexts)
	if e.opts.OnQueuedRun != nil && ctx.Err() == nil {
		e.opts.OnQueuedRun(h, err)
	}
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if t.AllowFailure {
			e.opts.Metrics.HookRunAllowedErrors.WithLabelValues(h.Name, p.binding, queueName).Inc()
			// allowFailure counts as success: the queue drops the task, so
			// the watch must be unlocked now or its events pile up forever.
			e.unlock(p.monitorIDs)
		} else {
			e.opts.Metrics.HookRunErrors.WithLabelValues(h.Name, p.binding, queueName).Inc()
		}
		return err
	}
	e.opts.Metrics.HookRunSuccess.WithLabelValues(h.Name, p.binding, queueName).Inc()
	e.unlock(p.monitorIDs)
	return nil
}

// Run runs h once, outside the queues, for the given binding contexts (the
// module runtime's lifecycle bindings: beforeHelm, afterHelm, ...), with
// fresh snapshots, and applies its outputs like a queued run. It counts in
// the same metrics, with queueName as the queue label.
func (e *Engine) Run(ctx context.Context, h *Hook, binding, queueName string, contexts []hook.BindingContext) error {
	_, err := e.RunResult(ctx, h, binding, queueName, contexts)
	return err
}

// RunResult is Run that also returns what the hook wrote (its admission or
// conversion response), for runs outside the queues: webhook requests.
func (e *Engine) RunResult(ctx context.Context, h *Hook, binding, queueName string, contexts []hook.BindingContext) (*hook.Result, error) {
	res, err := e.run(ctx, h, binding, queueName, contexts)
	labels := []string{h.Name, binding, queueName}
	switch {
	case err == nil:
		e.opts.Metrics.HookRunSuccess.WithLabelValues(labels...).Inc()
	case ctx.Err() == nil:
		e.opts.Metrics.HookRunErrors.WithLabelValues(labels...).Inc()
	}
	return res, err
}

// run waits for the hook's rate limiter, reads fresh snapshots, runs the
// hook and, only when it succeeded and every output file is valid, applies
// the object patches, the metrics and then the owner's outputs.
func (e *Engine) run(ctx context.Context, h *Hook, binding, queueName string, contexts []hook.BindingContext) (*hook.Result, error) {
	if h.limiter != nil {
		if err := h.limiter.Wait(ctx); err != nil {
			return nil, fmt.Errorf("hook %s: waiting for executionMinInterval: %w", h.Name, err)
		}
	}
	contexts = hook.RefreshSnapshots(contexts, func(b string) []hook.ObjectAndFilterResult {
		return e.Snapshot(h.Name, b)
	})
	opts := hook.RunOptions{
		TmpDir:        e.opts.TempDir,
		Env:           e.opts.Env,
		Logger:        e.log.With("binding", binding, "queue", queueName),
		KeepFiles:     e.opts.KeepTmpFiles,
		ProxyJSONLogs: e.opts.ProxyHookJSONLogs,
		ModuleName:    h.Module,
	}
	if h.IO != nil {
		in, out, err := h.IO.Prepare(h)
		if err != nil {
			return nil, fmt.Errorf("hook %s: preparing its files: %w", h.Name, err)
		}
		opts.Inputs, opts.Outputs = in, out
	}
	labels := []string{h.Name, binding, queueName}
	runCtx := ctx
	if e.opts.HookTimeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, e.opts.HookTimeout)
		defer cancel()
	}
	start := time.Now()
	res, runErr := e.opts.Executor.Run(runCtx, &h.Hook, contexts, opts)
	if runErr != nil && ctx.Err() == nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) {
		runErr = fmt.Errorf("hook %s: killed after the hook timeout of %s: %w", h.Name, e.opts.HookTimeout, runErr)
	}
	e.opts.Metrics.HookRunSeconds.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
	if res != nil {
		e.opts.Metrics.HookRunUserCPU.WithLabelValues(labels...).Observe(res.UserCPU.Seconds())
		e.opts.Metrics.HookRunSysCPU.WithLabelValues(labels...).Observe(res.SystemCPU.Seconds())
		e.opts.Metrics.HookRunMaxRSS.WithLabelValues(labels...).Set(float64(res.MaxRSSBytes))
	}
	if runErr != nil {
		if res != nil {
			e.applyOnHookError(ctx, h, res)
		}
		return res, runErr
	}
	return res, e.applyOutputs(ctx, h, res)
}

// applyOutputs parses every output file first, so a malformed file applies
// nothing, then applies the patches, the metrics and the owner's outputs.
func (e *Engine) applyOutputs(ctx context.Context, h *Hook, res *hook.Result) error {
	ops, err := kube.ParseOperations(res.KubernetesPatch)
	if err != nil {
		return fmt.Errorf("hook %s: %s: %w", h.Name, hook.EnvKubernetesPatchPath, err)
	}
	mops, err := metrics.Parse(res.Metrics)
	if err != nil {
		return fmt.Errorf("hook %s: %s: %w", h.Name, hook.EnvMetricsPath, err)
	}
	if err := e.opts.Store.Check(h.Name, mops, nil); err != nil {
		return fmt.Errorf("hook %s: %s: %w", h.Name, hook.EnvMetricsPath, err)
	}
	commit := func() {}
	if h.IO != nil {
		if commit, err = h.IO.Check(h, res.Outputs); err != nil {
			return fmt.Errorf("hook %s: %w", h.Name, err)
		}
	}
	if len(ops) > 0 {
		if err := e.patcher.Apply(ctx, ops); err != nil {
			return fmt.Errorf("hook %s: applying %s: %w", h.Name, hook.EnvKubernetesPatchPath, err)
		}
	}
	// addon-operator labels a module hook's metrics with its module too.
	var labels map[string]string
	if h.Module != "" {
		labels = map[string]string{"module": h.Module}
	}
	if err := e.opts.Store.Apply(h.Name, mops, labels); err != nil {
		return fmt.Errorf("hook %s: %s: %w", h.Name, hook.EnvMetricsPath, err)
	}
	commit()
	return nil
}

// applyOnHookError applies the status patches marked ignoreHookError of a
// failed run, as shell-operator does; problems are only logged, the run has
// failed already.
func (e *Engine) applyOnHookError(ctx context.Context, h *Hook, res *hook.Result) {
	ops, err := kube.ParseOperations(res.KubernetesPatch)
	if err != nil {
		return
	}
	ops = kube.OperationsOnHookError(ops)
	if len(ops) == 0 {
		return
	}
	if err := e.patcher.Apply(ctx, ops); err != nil && !errors.Is(err, context.Canceled) {
		e.log.Warn("applying ignoreHookError patches of a failed run", "hook", h.Name, "error", err)
	}
}
