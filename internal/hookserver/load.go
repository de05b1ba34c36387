package hookserver

import (
	"context"
	"errors"
	"strings"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/hook"
)

// load discovers the hooks and records broken ones; it never fails the server.
func (s *Server) load(ctx context.Context) {
	hooks, hookErrs, err := hook.Discover(ctx, s.opts.HooksDir, hook.DiscoverOptions{Env: s.opts.Env, Logger: s.log})
	states := make([]*engine.Hook, 0, len(hooks))
	byName := make(map[string]*engine.Hook, len(hooks))
	for _, h := range hooks {
		hs := engine.NewHook(*h, "", nil)
		states = append(states, hs)
		byName[hs.Name] = hs
		s.metrics.HookConfigErrors.WithLabelValues(hs.Name).Set(0)
	}
	sortedHooks(states)
	configErrors := map[string]error{}
	for _, herr := range hookErrs {
		name := herr.Error()
		var he *hook.HookError
		if errors.As(herr, &he) {
			// HookError names the hook with the hooks dir's base name in front.
			name = he.Hook
			if _, rest, ok := strings.Cut(he.Hook, "/"); ok {
				name = rest
			}
		}
		configErrors[name] = herr
		s.metrics.HookConfigErrors.WithLabelValues(name).Set(1)
		s.log.Error("hook config is broken; the hook will not run", "hook", name, "error", herr)
	}
	if err != nil {
		s.log.Error("loading hooks", "dir", s.opts.HooksDir, "error", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks, s.byName, s.configErrors, s.loadErr, s.loaded = states, byName, configErrors, err, true
}
