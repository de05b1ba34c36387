package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// discoverAll finds the modules of every modules directory and sets up the
// global values. A module that fails to load is logged and reported, and
// the others run.
func (r *Runtime) discoverAll() error {
	mods, errs := module.Discover(r.opts.ModulesDirs)
	mods.Modules = r.withGiven(mods.Modules, &errs)
	for _, err := range errs {
		r.log.Error("module not loaded", "error", err)
	}
	gv, err := newGlobalValues(r.opts.GlobalHooksDir, mods.GlobalStatic())
	if err != nil {
		return err
	}
	r.global = &globalState{vals: gv}
	r.discover = errs
	for _, err := range errs {
		var de *module.DiscoverError
		if errors.As(err, &de) {
			r.addBroken(de)
		}
	}
	for _, m := range mods.Modules {
		mv, err := newModuleValues(m, mods.Common[m.Dir], r.registries[m.Name])
		if err != nil {
			r.log.Error("module not loaded", "module", m.Name, "dir", m.Dir, "error", err)
			r.discover = append(r.discover, err)
			r.addBroken(&module.DiscoverError{Dir: m.Dir, Err: err})
			continue
		}
		s := newModuleState(m, mv)
		r.modules[m.Name] = s
		r.ordered = append(r.ordered, s)
	}
	sortModules(r.ordered)
	return nil
}

// withGiven loads Options.Modules; each replaces a discovered module of
// the same name.
func (r *Runtime) withGiven(found []*module.Module, errs *[]error) []*module.Module {
	if len(r.opts.Modules) == 0 {
		return found
	}
	given := map[string]bool{}
	var out []*module.Module
	for _, md := range r.opts.Modules {
		m, err := module.LoadRuntime(md.Dir, module.WithName(md.Name))
		if err != nil {
			*errs = append(*errs, &module.DiscoverError{Dir: md.Dir, Err: err})
			continue
		}
		given[m.Name] = true
		if md.Registry != nil {
			if r.registries == nil {
				r.registries = map[string]*values.Registry{}
			}
			r.registries[m.Name] = md.Registry
		}
		out = append(out, m)
	}
	for _, m := range found {
		if !given[m.Name] {
			out = append(out, m)
		}
	}
	return out
}

// addBroken keeps a module that failed to load, so its Module object says
// why; it is never enabled.
func (r *Runtime) addBroken(de *module.DiscoverError) {
	name, _, _ := module.SplitDirName(filepath.Base(de.Dir))
	if _, dup := r.modules[name]; dup {
		return
	}
	s := newModuleState(&module.Module{Name: name, Dir: de.Dir, Schemas: &values.Schemas{}}, &moduleValues{})
	s.broken = true
	s.status = moduleStatus{Phase: PhaseError, Error: de.Error(), ErrorSource: "module"}
	r.modules[name] = s
	r.ordered = append(r.ordered, s)
}

// loadModuleHooks discovers the module's hooks (executables, Python with
// the module's venv, module-sdk binaries), named relative to the module.
func loadModuleHooks(ctx context.Context, m *module.Module, env []string, log *slog.Logger) ([]*hook.Hook, error) {
	if m.HooksDir == "" {
		return nil, nil
	}
	hooks, hookErrs, err := hook.Discover(ctx, m.HooksDir, hook.DiscoverOptions{Kind: hook.KindModule, ExcludeDirs: []string{"venv"}, Env: env, Logger: log.With("module", m.Name)})
	if err != nil {
		return nil, fmt.Errorf("module %s: hooks: %w", m.Name, err)
	}
	if len(hookErrs) > 0 {
		return nil, fmt.Errorf("module %s: %w", m.Name, hookErrs[0])
	}
	return hooks, nil
}
