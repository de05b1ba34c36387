package lint

import (
	"context"
	"errors"
	"github.com/deckhand-dev/deckhand/internal/module"
	"path/filepath"

	"github.com/deckhand-dev/deckhand/internal/hook"
)

// lintHooks checks that hook-looking files are executable (hooks/hook-executable)
// and loads every hook's --config the way the runtime does (hook.LoadHook: same
// working directory, environment and strict parser), reporting each problem
// (hooks/hook-config).
func lintHooks(ctx context.Context, c *collector, m *module.Module) {
	for _, rel := range m.NonExecutableHooks {
		c.add(LinterHooks, "hook-executable", rel, 1, "starts with #! but is not executable: addon-operator skips it (chmod +x)")
	}
	root, err := filepath.EvalSymlinks(filepath.Join(m.Dir, "hooks"))
	if err != nil {
		return
	}
	for _, rel := range m.Hooks {
		name := rel[len("hooks/"):]
		path := filepath.Join(root, filepath.FromSlash(name))
		if _, err := hook.LoadHooks(ctx, root, path, name, rel, module.HookDiscovery()); err != nil {
			for _, msg := range hookProblems(err) {
				c.add(LinterHooks, "hook-config", rel, 0, "--config: %s", msg)
			}
		}
	}
}

// hookProblems splits a hook load error into one message per field problem.
func hookProblems(err error) []string {
	var he *hook.HookError
	if errors.As(err, &he) {
		err = he.Err
	}
	var out []string
	for _, e := range unjoin(err) {
		var fe *hook.FieldError
		switch {
		case errors.As(e, &fe) && fe.Field != "":
			out = append(out, fe.Field+": "+fe.Message)
		case errors.As(e, &fe):
			out = append(out, fe.Message)
		default:
			out = append(out, e.Error())
		}
	}
	return out
}
