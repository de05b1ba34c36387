package hookserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/metrics"
	"github.com/deckhand-dev/deckhand/internal/queue"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// Options configure a Server.
type Options struct {
	// HooksDir is the directory searched for hooks (recursively).
	HooksDir string
	// RestConfig reaches the cluster.
	RestConfig *rest.Config
	// ListenAddress serves /metrics, /metrics/hooks, /healthz and /readyz
	// ("" = no HTTP server).
	ListenAddress string
	// DebugAddress serves /debug/queues and /debug/snapshots/{hook}, which
	// show full objects (Secrets included) without authentication: keep it
	// on loopback ("" = no debug server).
	DebugAddress string
	// LeaderElection, when set, makes only the Lease holder run hooks.
	LeaderElection *LeaderElection
	// TempDir holds the per-run files of hooks ("" = os.TempDir()).
	TempDir string
	// Logger receives the server's and the hooks' logs (nil = slog.Default()).
	Logger *slog.Logger
	// MetricsPrefix prefixes runtime metric names (default metrics.DefaultPrefix).
	MetricsPrefix string
	// Backoff overrides the retry delays of failed tasks (default queue.DefaultBackoff).
	Backoff queue.BackoffFunc
	// Executor runs hook processes (default hook.ShellExecutor).
	Executor hook.Executor
	// JqLibraryPath lists directories searched for jq modules that binding
	// jqFilters import or include.
	JqLibraryPath []string
	// KeepTmpFiles leaves each run's files (binding context, outputs) in
	// TempDir (shell-operator's DEBUG_KEEP_TMP_FILES).
	KeepTmpFiles bool
	// ProxyHookJSONLogs logs hook output lines holding a JSON object as
	// structured records (shell-operator's LOG_PROXY_HOOK_JSON).
	ProxyHookJSONLogs bool
	// Env is added to the environment of every hook run.
	Env []string
	// HookTimeout kills a hook run (its process group) after this long and
	// fails it; 0 = no limit, as shell-operator.
	HookTimeout time.Duration
	// AccumulateUngroupedMetrics keeps hook metrics without a "group" across
	// runs (counters accumulate, as before shell-operator v1.11) instead of
	// replacing a hook's ungrouped series on every run (shell-operator today).
	AccumulateUngroupedMetrics bool
	// Webhooks are the webhook servers for hooks' admission and conversion
	// bindings (shell-operator runs one for each); a server starts only
	// when a hook has a binding it serves.
	Webhooks []webhook.Options
}

type serverState int

const (
	stateStandby serverState = iota
	stateStarting
	stateRunning
	stateFailed
)

// Server runs the hooks of one directory, like shell-operator.
type Server struct {
	opts Options
	log  *slog.Logger

	registry     *prometheus.Registry
	hookRegistry *prometheus.Registry
	metrics      *metrics.Runtime
	store        *metrics.Store

	listener      lazyListener
	debugListener lazyListener

	mu           sync.Mutex
	hooks        []*engine.Hook
	byName       map[string]*engine.Hook
	configErrors map[string]error
	loadErr      error
	loaded       bool
	state        serverState
	runErr       error
	leader       string
	engine       *engine.Engine // the running hooks, nil while standby
}

// New creates a Server; it does not touch the cluster or the hooks yet.
func New(opts Options) (*Server, error) {
	if opts.HooksDir == "" {
		return nil, errors.New("hooks dir is required")
	}
	if opts.RestConfig == nil {
		return nil, errors.New("kubernetes rest config is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MetricsPrefix == "" {
		opts.MetricsPrefix = metrics.DefaultPrefix
	}
	if opts.Backoff == nil {
		opts.Backoff = queue.DefaultBackoff
	}
	if opts.Executor == nil {
		opts.Executor = hook.ShellExecutor{}
	}
	s := &Server{
		opts:         opts,
		log:          opts.Logger,
		registry:     prometheus.NewRegistry(),
		hookRegistry: prometheus.NewRegistry(),
		store:        newStore(opts.AccumulateUngroupedMetrics),
		byName:       map[string]*engine.Hook{},
		configErrors: map[string]error{},
	}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.hookRegistry.MustRegister(s.store)
	m, err := metrics.NewRuntime(s.registry, metrics.WithPrefix(opts.MetricsPrefix), metrics.WithQueues(s.queueStates), metrics.WithSnapshots(s.snapshotStates))
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// Listen binds the HTTP address now (Run does it otherwise) and returns it;
// useful with ":0".
func (s *Server) Listen() (net.Addr, error) { return s.listener.listen(s.opts.ListenAddress) }

// ListenDebug binds the debug address now (Run does it otherwise) and
// returns it; useful with "127.0.0.1:0".
func (s *Server) ListenDebug() (net.Addr, error) {
	return s.debugListener.listen(s.opts.DebugAddress)
}

// Run loads the hooks, serves HTTP and runs the hooks (when leading) until
// ctx is cancelled. Broken hook configs do not stop it: they are logged,
// reported by /readyz and the hook_config_errors metric, and those hooks do
// not run. It returns an error when it cannot serve or lost the Lease.
func (s *Server) Run(ctx context.Context) error {
	// The HTTP goroutines stop on ctx, so cancel before waiting for them.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.opts.ListenAddress != "" {
		if _, err := s.Listen(); err != nil {
			return err
		}
		serveHTTP(ctx, &wg, s.log, "metrics and health", s.listener.ln, s.Handler())
	}
	if s.opts.DebugAddress != "" {
		if _, err := s.ListenDebug(); err != nil {
			return err
		}
		serveHTTP(ctx, &wg, s.log, "debug endpoints", s.debugListener.ln, s.DebugHandler())
	}
	s.load(ctx)
	if s.opts.LeaderElection == nil {
		s.runHooks(ctx)
		return nil
	}
	return runLeading(ctx, s.opts.RestConfig, *s.opts.LeaderElection, func(id string) {
		s.mu.Lock()
		s.leader = id
		s.mu.Unlock()
		s.log.Info("hooks leader", "identity", id)
	}, s.runHooks)
}

// runHooks runs the loaded hooks until ctx is done.
func (s *Server) runHooks(ctx context.Context) {
	s.setState(stateStarting, nil)
	e, err := s.newEngine()
	if err != nil {
		s.log.Error("cannot start hooks", "error", err)
		s.setState(stateFailed, err)
		<-ctx.Done()
		return
	}
	s.mu.Lock()
	s.engine = e
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()
	bootstrap(e, hooks)
	e.Start(ctx)
	var wg sync.WaitGroup
	s.runWebhooks(ctx, &wg, e, hooks)
	<-ctx.Done()
	wg.Wait()
	e.Stop()
	s.mu.Lock()
	s.engine = nil
	s.mu.Unlock()
	s.setState(stateStandby, nil)
}

func (s *Server) setState(st serverState, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state, s.runErr = st, err
}

// Ready reports whether the server runs all hooks with nothing broken, and
// if not, why (each problem names the hook or step).
func (s *Server) Ready() (bool, []string) {
	p := s.readinessProblems()
	return len(p) == 0, p
}

func (s *Server) role() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateStarting:
		return "starting"
	case stateRunning:
		return "leader"
	case stateFailed:
		return "failed"
	}
	if s.opts.LeaderElection != nil {
		return "standby (leader: " + s.leader + ")"
	}
	return "stopped"
}

func (s *Server) hookNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.hooks))
	for _, h := range s.hooks {
		names = append(names, h.Name)
	}
	return names
}

func (s *Server) currentEngine() *engine.Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.engine
}

func (s *Server) queueStatus() []queue.Status {
	if e := s.currentEngine(); e != nil {
		return e.Queues().Status()
	}
	return []queue.Status{}
}

func (s *Server) queueStates() []metrics.QueueState {
	if e := s.currentEngine(); e != nil {
		return e.QueueStates()
	}
	return nil
}

func (s *Server) snapshotStates() []metrics.SnapshotState {
	if e := s.currentEngine(); e != nil {
		return e.SnapshotStates()
	}
	return nil
}

// snapshots returns the debug view of one hook's snapshots.
func (s *Server) snapshots(name string) (HookSnapshots, bool) {
	s.mu.Lock()
	h, ok := s.byName[name]
	e := s.engine
	s.mu.Unlock()
	if !ok {
		return HookSnapshots{}, false
	}
	out := HookSnapshots{Hook: name, Snapshots: map[string][]SnapshotObject{}}
	for _, b := range h.Config.Kubernetes {
		objs := []SnapshotObject{}
		if e != nil {
			for _, o := range e.Snapshot(h.Name, b.Name) {
				objs = append(objs, SnapshotObject{Object: o.Object, FilterResult: o.FilterResult})
			}
		}
		out.Snapshots[b.Name] = objs
	}
	return out, true
}

func newStore(accumulate bool) *metrics.Store {
	if accumulate {
		return metrics.NewStore(metrics.WithAccumulatingUngrouped())
	}
	return metrics.NewStore()
}

func sortedHooks(hs []*engine.Hook) {
	sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
}
