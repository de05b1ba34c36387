package hookserver

import (
	"context"
	"fmt"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/queue"
)

// kindStarted marks the end of the startup tasks in "main".
const kindStarted = "StartupDone"

// newEngine builds the hook engine for one leadership term.
func (s *Server) newEngine() (*engine.Engine, error) {
	client, err := kube.NewClient(s.opts.RestConfig)
	if err != nil {
		return nil, err
	}
	e, err := engine.New(engine.Options{
		Client:            client,
		Executor:          s.opts.Executor,
		Metrics:           s.metrics,
		Store:             s.store,
		Logger:            s.log,
		Backoff:           s.opts.Backoff,
		Handle:            s.handle,
		TempDir:           s.opts.TempDir,
		Env:               s.opts.Env,
		KeepTmpFiles:      s.opts.KeepTmpFiles,
		ProxyHookJSONLogs: s.opts.ProxyHookJSONLogs,
		JqLibraryPath:     s.opts.JqLibraryPath,
		HookTimeout:       s.opts.HookTimeout,
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	e.Add(s.hooks...)
	s.mu.Unlock()
	return e, nil
}

// bootstrap queues shell-operator's startup: onStartup runs in order, then
// per hook (in name order) the enabling of its watches and schedules.
func bootstrap(e *engine.Engine, hooks []*engine.Hook) {
	q := e.Queues()
	q.Ensure(hook.DefaultQueue)
	plain := make([]*hook.Hook, len(hooks))
	byName := make(map[string]*engine.Hook, len(hooks))
	for i, h := range hooks {
		plain[i] = &h.Hook
		byName[h.Name] = h
	}
	for _, h := range hook.OrderedBy(plain, hook.BindingOnStartup) {
		q.Add(hook.DefaultQueue, engine.RunTask(byName[h.Name], hook.OnStartupName, false, hook.OnStartupContext()))
	}
	for _, h := range hooks {
		if len(h.Config.Kubernetes) > 0 {
			q.Add(hook.DefaultQueue, engine.EnableKubernetesTask(h))
		}
		if len(h.Config.Schedules) > 0 {
			q.Add(hook.DefaultQueue, engine.EnableScheduleTask(h))
		}
	}
	q.Add(hook.DefaultQueue, queue.Task{Kind: kindStarted})
}

// handle runs the tasks of the server's own kinds.
func (s *Server) handle(_ context.Context, _ string, t queue.Task) error {
	if t.Kind == kindStarted {
		s.setState(stateRunning, nil)
		s.log.Info("hooks started", "hooks", len(s.hookNames()))
		return nil
	}
	return fmt.Errorf("unknown task kind %q", t.Kind)
}
