package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/module"
)

// globalQueue is the lane of global hooks: their "main" is the engine's main.
const globalQueue = hook.DefaultQueue

// globalState is the global hooks and the global values.
type globalState struct {
	vals *globalValues

	mu     sync.Mutex
	hooks  []*engine.Hook
	plain  []*hook.Hook
	byName map[string]*engine.Hook
}

func (g *globalState) values() map[string]any { return g.vals.values() }
func (g *globalState) checksum() string       { return g.vals.checksum() }
func (g *globalState) setEnabledModules(names []string) {
	g.vals.setEnabledModules(names)
}

// loadGlobalHooks discovers the global hooks: $GLOBAL_HOOKS_DIR/hooks when
// that exists, else $GLOBAL_HOOKS_DIR itself.
func (r *Runtime) loadGlobalHooks(ctx context.Context) error {
	g := r.global
	g.byName = map[string]*engine.Hook{}
	if r.opts.GlobalHooksDir == "" {
		return nil
	}
	dir := r.opts.GlobalHooksDir
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		r.log.Warn("global hooks directory does not exist; running without global hooks", "dir", dir)
		return nil
	}
	dir = module.GlobalHooksDir(dir)
	hooks, hookErrs, err := hook.Discover(ctx, dir, hook.DiscoverOptions{Kind: hook.KindGlobal, ExcludeDirs: []string{"venv"}, Env: r.opts.Env, Logger: r.log})
	if err != nil {
		return fmt.Errorf("global hooks in %s: %w", dir, err)
	}
	if len(hookErrs) > 0 {
		// addon-operator refuses to start with a broken global hook: the
		// values every module sees would be wrong.
		return fmt.Errorf("global hooks in %s: %w", dir, hookErrs[0])
	}
	for _, h := range hooks {
		h.Name = "global/" + h.Name
		eh := engine.NewHook(*h, "", &globalIO{r: r})
		g.hooks = append(g.hooks, eh)
		g.plain = append(g.plain, &eh.Hook)
		g.byName[h.Name] = eh
	}
	r.engine.Add(g.hooks...)
	return nil
}

// startGlobal is addon-operator's bootstrap: global onStartup hooks in
// order, then the global hooks' schedules and watches (Synchronization runs
// here, before the first converge, so modules see its values).
func (r *Runtime) startGlobal(ctx context.Context) error {
	if err := r.loadGlobalHooks(ctx); err != nil {
		return err
	}
	if err := r.runGlobalLifecycle(ctx, hook.BindingOnStartup); err != nil {
		return err
	}
	for _, h := range r.global.hooks {
		if err := r.engine.EnableSchedules(h); err != nil {
			return err
		}
	}
	for _, h := range r.global.hooks {
		if len(h.Config.Kubernetes) == 0 {
			continue
		}
		if err := r.engine.SyncKubernetes(ctx, h, globalQueue); err != nil {
			return err
		}
	}
	return nil
}

// runGlobalLifecycle runs the global hooks with binding bt in (order, name).
func (r *Runtime) runGlobalLifecycle(ctx context.Context, bt hook.BindingType) error {
	g := r.global
	for _, ph := range hook.OrderedBy(g.plain, bt) {
		h := g.byName[ph.Name]
		bc := h.Config.LifecycleContext(bt)
		if bt == hook.BindingOnStartup {
			bc = hook.OnStartupContext()
		}
		if err := r.engine.Run(ctx, h, string(bt), globalQueue, []hook.BindingContext{bc}); err != nil {
			return &stepError{Step: h.Name, Err: err}
		}
	}
	return nil
}
