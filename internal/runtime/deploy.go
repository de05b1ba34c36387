package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/queue"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// kindSwap is the lane task that replaces a module's running version.
const kindSwap = "ModuleSwap"

// ModuleDir is one module directory given by path rather than found in a
// modules directory: a downloaded version, named by its owner because the
// directory is named after the version.
type ModuleDir struct {
	Name string
	Dir  string
	// Registry is injected as <moduleKey>.registry (DKP does so for modules
	// from a ModuleSource: lib-helm builds image references from it).
	Registry *values.Registry
}

// DeployError says that a new version did not converge; the previous one
// (if any) was put back.
type DeployError struct {
	Module string
	Dir    string
	Err    error
	// RolledBack is true when a previous version was restored.
	RolledBack bool
}

func (e *DeployError) Error() string {
	msg := fmt.Sprintf("module %s from %s: %v", e.Module, e.Dir, e.Err)
	if e.RolledBack {
		msg += " (the previous version was put back)"
	}
	return msg
}
func (e *DeployError) Unwrap() error { return e.Err }

// swap is a pending version change, run in the module's lane so it never
// overlaps a reconcile of the version it replaces.
type swap struct {
	next *moduleState
	done chan error
}

// Deploy makes the module in dir the running version of module name and
// waits until it converged, failed or was judged disabled. The version it
// replaces keeps running until then; if the new one fails (its values, its
// hooks or its chart), the previous version is put back and reconciled,
// and the error is a *DeployError. A module the runtime did not know is
// added. The module's settings are validated against the new schema
// before anything changes.
func (r *Runtime) Deploy(ctx context.Context, md ModuleDir) error {
	name, dir := md.Name, md.Dir
	m, err := module.LoadRuntime(dir, module.WithName(name))
	if err != nil {
		return &DeployError{Module: name, Dir: dir, Err: err}
	}
	if m.Name != name {
		return &DeployError{Module: name, Dir: dir, Err: fmt.Errorf("module.yaml names the module %q", m.Name)}
	}
	vals, err := newModuleValues(m, nil, md.Registry)
	if err != nil {
		return &DeployError{Module: name, Dir: dir, Err: err}
	}
	r.mu.Lock()
	cfg := r.config
	r.mu.Unlock()
	if cfg != nil {
		mc := cfg.module(name)
		version, err := vals.setConfig(mc.Settings, mc.Version)
		if err != nil {
			return &DeployError{Module: name, Dir: dir, Err: err}
		}
		// The config was read before this module ran here: say now which
		// settings version it took.
		r.status.configStatus(name, mc, version, nil)
	}
	if err := vals.withGlobal(r.global.values()); err != nil {
		return &DeployError{Module: name, Dir: dir, Err: err}
	}
	next := newModuleState(m, vals)

	r.mu.Lock()
	prev := r.modules[name]
	if prev == nil || prev.broken {
		if prev != nil {
			r.removeOrdered(prev)
		}
		r.modules[name] = next
		r.ordered = append(r.ordered, next)
		sortModules(r.ordered)
		r.mu.Unlock()
		r.requestConverge("module " + name + " added")
		return r.waitConverged(ctx, next, dir)
	}
	r.mu.Unlock()

	sw := &swap{next: next, done: make(chan error, 1)}
	r.mu.Lock()
	if r.swaps == nil {
		r.swaps = map[string]*swap{}
	}
	r.swaps[name] = sw
	r.mu.Unlock()
	r.engine.Queues().Add(prev.lane, queue.Task{Subject: name, Kind: kindSwap, Description: "deploy " + dir})
	select {
	case err := <-sw.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runSwap replaces the running version of a module with the pending one,
// reconciles it and, when it fails, restores the previous version.
func (r *Runtime) runSwap(ctx context.Context, name string) error {
	r.mu.Lock()
	sw := r.swaps[name]
	delete(r.swaps, name)
	prev := r.modules[name]
	r.mu.Unlock()
	if sw == nil || prev == nil {
		return nil
	}
	next := sw.next
	prev.mu.Lock()
	next.desired, next.decided, next.active = prev.desired, prev.decided, prev.active
	next.status.Enabled, next.status.EnabledReason, next.status.EnabledMessage = prev.status.Enabled, prev.status.EnabledReason, prev.status.EnabledMessage
	next.status.Revision = prev.status.Revision
	prev.mu.Unlock()
	r.unloadHooks(prev)
	r.replace(prev, next)
	err := r.reconcile(ctx, next)
	next.attemptDone()
	if err == nil {
		sw.done <- nil
		r.requestConverge("module " + name + " deployed") // its enabled script may differ
		return nil
	}
	// Put the previous version back as it was before, hooks restarted.
	r.unloadHooks(next)
	back := newModuleState(prev.mod, prev.vals)
	back.desired, back.decided, back.active = next.desired, next.decided, true
	back.status = next.snapshotStatus()
	r.replace(next, back)
	if rerr := r.reconcile(ctx, back); rerr != nil {
		r.enqueueReconcile(back)
	}
	back.attemptDone()
	sw.done <- &DeployError{Module: name, Dir: next.mod.Dir, Err: err, RolledBack: true}
	return nil
}

// waitConverged waits for a newly added module's enablement and, when it
// is enabled, its first reconcile.
func (r *Runtime) waitConverged(ctx context.Context, s *moduleState, dir string) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		decided, desired, attempts, st := s.decided, s.desired, s.attempts, s.status
		s.mu.Unlock()
		if decided && (!desired || attempts > 0) {
			if desired && st.Error != "" {
				return &DeployError{Module: s.mod.Name, Dir: dir, Err: errors.New(st.Error)}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// unloadHooks takes a version's hooks out of the engine (watches and
// schedules stop) without touching its Helm release.
func (r *Runtime) unloadHooks(s *moduleState) {
	s.mu.Lock()
	names := make([]string, len(s.hooks))
	for i, h := range s.hooks {
		names[i] = h.Name
	}
	s.hooks, s.plain, s.byName, s.started = nil, nil, nil, false
	s.mu.Unlock()
	r.engine.Remove(names...)
	r.webhooksRemove(names)
}

// replace puts next where prev was (same name, same lane).
func (r *Runtime) replace(prev, next *moduleState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.modules[next.mod.Name] = next
	for i, s := range r.ordered {
		if s == prev {
			r.ordered[i] = next
		}
	}
	sortModules(r.ordered)
}

func (r *Runtime) removeOrdered(s *moduleState) {
	for i, o := range r.ordered {
		if o == s {
			r.ordered = append(r.ordered[:i], r.ordered[i+1:]...)
			return
		}
	}
}

// ModuleVersionDir reports the directory a module runs from ("" when the
// runtime does not know it).
func (r *Runtime) ModuleVersionDir(name string) string {
	if s := r.module(name); s != nil && !s.broken {
		return s.mod.Dir
	}
	return ""
}
