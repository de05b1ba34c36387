package runtime

import (
	"context"
	"sort"
	"time"

	"github.com/deckhand-dev/deckhand/internal/hook"
)

// groupWait bounds how long a converge waits for one weight group's first
// attempts before it moves to heavier modules: a module whose hook hangs
// keeps its own lane busy, not the whole converge.
const groupWait = time.Minute

// convergeOnce is addon-operator's ConvergeModules: beforeAll hooks, the
// enablement pass, disabled modules torn down, enabled ones reconciled in
// ascending weight (one weight group at a time, the modules of a group in
// parallel), afterAll hooks. A module's failure does not stop the pass: its
// lane retries it with backoff.
func (r *Runtime) convergeOnce(ctx context.Context, reason string) error {
	r.log.Info("converge", "reason", reason)
	if err := r.runGlobalLifecycle(ctx, hook.BindingBeforeAll); err != nil {
		return err
	}
	r.mu.Lock()
	cfg := r.config
	r.mu.Unlock()
	decisions := r.decide(ctx, cfg)
	var enabledNames []string
	var toDelete, toRun []*moduleState
	for _, s := range r.orderedModules() {
		if s.broken {
			r.status.enqueue(s)
			continue
		}
		d := decisions[s.mod.Name]
		s.mu.Lock()
		s.desired, s.decided = d.enabled, true
		active := s.active
		s.status.Enabled = d.enabled
		s.status.EnabledReason, s.status.EnabledMessage = d.reason, d.message
		if !d.enabled && !active && s.status.Phase != PhaseError {
			s.status.Phase = PhaseAvailable
		}
		s.mu.Unlock()
		if d.err != nil {
			r.log.Error("enabled script failed; the module keeps its state", "module", s.mod.Name, "error", d.err)
		}
		switch {
		case d.enabled:
			enabledNames = append(enabledNames, s.mod.Name)
			toRun = append(toRun, s)
		case active:
			toDelete = append(toDelete, s)
		default:
			r.status.enqueue(s)
		}
	}
	sort.Strings(enabledNames)
	r.global.setEnabledModules(enabledNames)
	r.metrics.enabledModules.Set(float64(len(enabledNames)))
	r.reconcileAndWait(ctx, toDelete)
	for _, group := range weightGroups(toRun) {
		r.reconcileAndWait(ctx, group)
	}
	before := r.global.checksum()
	if err := r.runGlobalLifecycle(ctx, hook.BindingAfterAll); err != nil {
		return err
	}
	if r.global.checksum() != before {
		r.requestConverge("afterAll changed global values")
	}
	return nil
}

// reconcileAndWait queues a reconcile of each module and waits for their
// first attempts (or groupWait).
func (r *Runtime) reconcileAndWait(ctx context.Context, group []*moduleState) {
	if len(group) == 0 {
		return
	}
	waits := make([]<-chan struct{}, len(group))
	for i, s := range group {
		waits[i] = s.nextAttempt()
		r.enqueueReconcile(s)
	}
	wait := groupWait
	if r.once {
		wait = r.opts.HookTimeout + r.opts.HelmTimeout
	}
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	for _, w := range waits {
		select {
		case <-w:
		case <-timeout.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// weightGroups splits modules sorted by weight into runs of equal weight.
func weightGroups(ms []*moduleState) [][]*moduleState {
	var out [][]*moduleState
	for i := 0; i < len(ms); {
		j := i
		for j < len(ms) && ms[j].mod.Weight == ms[i].mod.Weight {
			j++
		}
		out = append(out, ms[i:j])
		i = j
	}
	return out
}
