package runtime

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/helm"
	"github.com/deckhand-dev/deckhand/internal/hook"
)

// stepError says which step of a module failed: a hook (by name) or the
// chart ("helm").
type stepError struct {
	Step string
	Err  error
}

func (e *stepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *stepError) Unwrap() error { return e.Err }

// reconcile brings one module to the state asked for: running with its
// current values when enabled, gone when disabled. It reads the desired
// state when it runs, so a reconcile queued before a config change still
// ends in the newest state.
func (r *Runtime) reconcile(ctx context.Context, s *moduleState) error {
	s.mu.Lock()
	desired, decided, active := s.desired, s.decided, s.active
	s.mu.Unlock()
	if !decided {
		return nil
	}
	if !desired {
		if !active {
			return nil
		}
		err := r.disable(ctx, s)
		r.recordResult(s, err, nil)
		return err
	}
	res, err := r.run(ctx, s)
	r.recordResult(s, err, res)
	return err
}

// run is addon-operator's ModuleRun: onStartup, Synchronization and
// schedules once, then beforeHelm, the Helm release, afterHelm.
func (r *Runtime) run(ctx context.Context, s *moduleState) (*helm.ApplyResult, error) {
	first := !s.isActive()
	s.setStatus(func(st *moduleStatus) {
		if first || st.Revision == 0 {
			st.Phase = PhaseInstalling
		} else if st.Phase != PhaseError {
			st.Phase = PhaseReconciling
		}
	})
	if err := r.ensureHooks(ctx, s); err != nil {
		return nil, err
	}
	// Hooks may write into the module's namespace before its chart exists
	// (DKP creates it for them too); the chart adopts it.
	if ns := s.mod.Namespace(); s.mod.Definition != nil && s.mod.Definition.Namespace != "" {
		if err := r.createNamespace(ctx, ns); err != nil {
			return nil, &stepError{Step: "namespace", Err: err}
		}
	}
	s.mu.Lock()
	s.inConverge = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inConverge = false
		s.mu.Unlock()
	}()
	if err := r.startModule(ctx, s); err != nil {
		return nil, err
	}
	if err := r.runLifecycle(ctx, s, hook.BindingBeforeHelm); err != nil {
		return nil, err
	}
	var res *helm.ApplyResult
	if s.mod.HasChart && r.maintenance(s) != MaintenanceNoReconcile {
		if err := r.applyCRDs(ctx, s); err != nil {
			return nil, err
		}
		vals, err := s.vals.forHelm(r.global.values())
		if err != nil {
			return nil, &stepError{Step: "values", Err: err}
		}
		if err := r.helmSlots.Acquire(ctx, 1); err != nil {
			return nil, err
		}
		res, err = r.helm.Apply(ctx, helm.ApplyOptions{
			Release:    s.mod.Name,
			ChartDir:   s.mod.Dir,
			Values:     vals,
			HistoryMax: r.opts.HelmHistoryMax,
			Timeout:    r.opts.HelmTimeout,
		})
		r.helmSlots.Release(1)
		if err != nil {
			return nil, &stepError{Step: "helm", Err: err}
		}
		if res.Upgraded {
			r.metrics.helmUpgrades.WithLabelValues(s.mod.Name).Inc()
		}
	}
	before := s.vals.checksum()
	s.mu.Lock()
	s.inConverge = false
	s.mu.Unlock()
	if err := r.runLifecycle(ctx, s, hook.BindingAfterHelm); err != nil {
		return res, err
	}
	if s.vals.checksum() != before {
		// afterHelm changed the values the chart was rendered with.
		r.enqueueReconcile(s)
	}
	return res, nil
}

// ensureHooks loads the module's hooks into the engine on first use.
func (r *Runtime) ensureHooks(ctx context.Context, s *moduleState) error {
	s.mu.Lock()
	loaded := s.hooks != nil
	s.mu.Unlock()
	if loaded {
		return nil
	}
	hooks, err := loadModuleHooks(ctx, s.mod, r.hookEnv(s), r.log)
	if err != nil {
		return &stepError{Step: "hooks", Err: err}
	}
	ehs := make([]*engine.Hook, len(hooks))
	byName := make(map[string]*engine.Hook, len(hooks))
	for i, h := range hooks {
		h.Name = s.mod.Name + "/" + h.Name
		ehs[i] = engine.NewHook(*h, s.lane, &moduleIO{r: r, s: s})
		ehs[i].Module = s.mod.Name
		byName[h.Name] = ehs[i]
	}
	r.engine.Add(ehs...)
	r.webhooksAdd(ehs)
	s.mu.Lock()
	s.hooks, s.byName, s.active = ehs, byName, true
	s.plain = make([]*hook.Hook, len(ehs))
	for i, h := range ehs {
		s.plain[i] = &h.Hook
	}
	s.mu.Unlock()
	return nil
}

// startModule runs onStartup hooks, syncs the kubernetes bindings and turns
// the schedules on, once per enable.
func (r *Runtime) startModule(ctx context.Context, s *moduleState) error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		return nil
	}
	if err := r.runLifecycle(ctx, s, hook.BindingOnStartup); err != nil {
		return err
	}
	for _, h := range s.hooks {
		if len(h.Config.Kubernetes) == 0 {
			continue
		}
		if err := r.engine.SyncKubernetes(ctx, h, s.lane); err != nil {
			return &stepError{Step: h.Name, Err: err}
		}
	}
	for _, h := range s.hooks {
		if err := r.engine.EnableSchedules(h); err != nil {
			return &stepError{Step: h.Name, Err: err}
		}
	}
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	return nil
}

// runLifecycle runs the module's hooks with binding bt in (order, name).
func (r *Runtime) runLifecycle(ctx context.Context, s *moduleState, bt hook.BindingType) error {
	for _, ph := range hook.OrderedBy(s.plain, bt) {
		h := s.byName[ph.Name]
		bc := h.Config.LifecycleContext(bt)
		if bt == hook.BindingOnStartup {
			bc = hook.OnStartupContext()
		}
		if err := r.engine.Run(ctx, h, string(bt), s.lane, []hook.BindingContext{bc}); err != nil {
			if h.Batch != nil && h.Batch.AllowFailure && ctx.Err() == nil {
				// module-sdk's hook-level allowFailure: logged, not fatal.
				r.log.Warn("hook failed; allowFailure is set", "hook", h.Name, "binding", bt, "error", err)
				continue
			}
			return &stepError{Step: h.Name, Err: err}
		}
	}
	return nil
}

// disable is addon-operator's ModuleDelete: beforeDeleteHelm, uninstall,
// afterDeleteHelm, then the module's watches and schedules stop.
func (r *Runtime) disable(ctx context.Context, s *moduleState) error {
	if err := r.ensureHooks(ctx, s); err != nil {
		return err
	}
	_, status, err := r.helm.Status(ctx, s.mod.Name)
	if err != nil {
		return &stepError{Step: "helm", Err: err}
	}
	if status != "" {
		if err := r.runLifecycle(ctx, s, hook.BindingBeforeDeleteHelm); err != nil {
			return err
		}
		if _, err := r.helm.Uninstall(ctx, s.mod.Name); err != nil {
			return &stepError{Step: "helm", Err: err}
		}
	}
	if err := r.runLifecycle(ctx, s, hook.BindingAfterDeleteHelm); err != nil {
		return err
	}
	s.mu.Lock()
	names := make([]string, len(s.hooks))
	for i, h := range s.hooks {
		names[i] = h.Name
	}
	s.hooks, s.plain, s.byName = nil, nil, nil
	s.started, s.active = false, false
	s.mu.Unlock()
	r.engine.Remove(names...)
	r.webhooksRemove(names)
	s.vals.reset()
	return nil
}

func (s *moduleState) isActive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// applyCRDs creates or updates the module's crds/ before its chart.
func (r *Runtime) applyCRDs(ctx context.Context, s *moduleState) error {
	if len(s.mod.CRDs) == 0 {
		return nil
	}
	paths := make([]string, len(s.mod.CRDs))
	for i, c := range s.mod.CRDs {
		paths[i] = filepath.Join(s.mod.Dir, c)
	}
	if err := r.helm.ApplyCRDs(ctx, paths); err != nil {
		return &stepError{Step: "crds", Err: err}
	}
	return nil
}

func (r *Runtime) maintenance(s *moduleState) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.config.module(s.mod.Name).Maintenance
}

// recordResult updates the module's status after an attempt.
func (r *Runtime) recordResult(s *moduleState, err error, res *helm.ApplyResult) {
	s.setStatus(func(st *moduleStatus) {
		st.ValuesChecksum = s.vals.checksum()
		if res != nil {
			st.Revision = res.Revision
		}
		if err == nil {
			st.Failures = 0
			st.Error, st.ErrorSource = "", ""
			if st.Enabled {
				st.Phase, st.Ready = PhaseReady, true
			} else {
				st.Phase, st.Ready, st.Revision = PhaseAvailable, false, 0
			}
			return
		}
		st.Failures++
		st.Phase, st.Ready = PhaseError, false
		st.Error = err.Error()
		var se *stepError
		if errors.As(err, &se) {
			st.ErrorSource = se.Step
		}
	})
	if err != nil {
		r.metrics.moduleRunErrors.WithLabelValues(s.mod.Name).Inc()
		r.log.Error("module failed; retrying in its own lane", "module", s.mod.Name, "error", err)
	}
	r.status.enqueue(s)
}

func (r *Runtime) hookEnv(s *moduleState) []string {
	return append(append([]string{}, r.opts.Env...),
		fmt.Sprintf("MODULE_NAME=%s", s.mod.Name),
		fmt.Sprintf("ADDON_OPERATOR_NAMESPACE=%s", r.opts.Namespace))
}
