package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/helm"
	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/metrics"
	"github.com/deckhand-dev/deckhand/internal/queue"
	"github.com/deckhand-dev/deckhand/internal/values"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// Task kinds of the runtime in the engine's queues.
const (
	kindReconcile = "ModuleReconcile"
)

// Runtime runs the modules of some directories against one cluster.
type Runtime struct {
	opts    Options
	log     *slog.Logger
	engine  *engine.Engine
	helm    *helm.Client
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	metrics *runtimeMetrics
	status  *statusWriter
	// helmSlots bounds the Helm operations running at once: each holds a
	// rendered chart, the release record and Helm's clients in memory.
	helmSlots *semaphore.Weighted

	global *globalState

	mu       sync.Mutex
	modules  map[string]*moduleState // by name
	ordered  []*moduleState          // by (weight, name)
	config   *Config
	configOK bool
	discover []error // modules that failed to load

	swaps    map[string]*swap // pending Deploy, by module
	webhooks []*webhook.Server
	// registries are the registry values of downloaded modules, by module.
	registries map[string]*values.Registry

	converge chan string // reasons; a pending converge absorbs later ones
	once     bool        // RunOnce: one attempt per module, converge waits for all
}

// New discovers the modules and global hooks and connects to the cluster;
// nothing runs until Run.
func New(opts Options) (*Runtime, error) {
	opts.defaults()
	if opts.RestConfig == nil {
		return nil, errors.New("runtime: a kubernetes rest config is required")
	}
	if len(opts.ModulesDirs) == 0 && opts.GlobalHooksDir == "" && len(opts.Modules) == 0 && !opts.AllowEmpty {
		return nil, errors.New("runtime: no modules directory given (--modules-dir or MODULES_DIR)")
	}
	// client-go's defaults (5 requests/s) would make a cold start of many
	// modules crawl; keep a caller's explicit limits.
	opts.RestConfig = rest.CopyConfig(opts.RestConfig)
	if opts.RestConfig.QPS == 0 && opts.RestConfig.RateLimiter == nil {
		opts.RestConfig.QPS, opts.RestConfig.Burst = 200, 400
	}
	client, err := kube.NewClient(opts.RestConfig)
	if err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(opts.RestConfig)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(opts.RestConfig)
	if err != nil {
		return nil, err
	}
	hc, err := helm.NewClient(opts.RestConfig, opts.Namespace)
	if err != nil {
		return nil, err
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	hookReg := opts.HookRegistry
	if hookReg == nil {
		hookReg = prometheus.NewRegistry()
	}
	r := &Runtime{
		opts:      opts,
		log:       opts.Logger,
		helm:      hc,
		kube:      kc,
		dyn:       dyn,
		modules:   map[string]*moduleState{},
		converge:  make(chan string, 1),
		helmSlots: semaphore.NewWeighted(int64(opts.HelmConcurrency)),
	}
	rm, err := metrics.NewRuntime(reg, metrics.WithQueues(r.queueStates))
	if err != nil {
		return nil, err
	}
	store := metrics.NewStore()
	if err := hookReg.Register(store); err != nil {
		return nil, err
	}
	if r.metrics, err = newRuntimeMetrics(reg); err != nil {
		return nil, err
	}
	r.engine, err = engine.New(engine.Options{
		Client:      client,
		Executor:    opts.Executor,
		Metrics:     rm,
		Store:       store,
		Logger:      opts.Logger,
		Backoff:     opts.Backoff,
		Handle:      r.handle,
		TempDir:     opts.TempDir,
		Env:         opts.Env,
		HookTimeout: opts.HookTimeout,
		OnQueuedRun: r.onQueuedRun,
	})
	if err != nil {
		return nil, err
	}
	if err := r.newWebhooks(); err != nil {
		return nil, err
	}
	r.status = newStatusWriter(dyn, kc, opts.ModuleConfigs, opts.Logger)
	if err := r.discoverAll(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Runtime) queueStates() []metrics.QueueState {
	if r.engine == nil {
		return nil
	}
	return r.engine.QueueStates()
}

// module returns a discovered module by name.
func (r *Runtime) module(name string) *moduleState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.modules[name]
}

// Modules lists the discovered modules by (weight, name).
func (r *Runtime) orderedModules() []*moduleState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*moduleState(nil), r.ordered...)
}

func sortModules(ms []*moduleState) {
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].mod.Weight != ms[j].mod.Weight {
			return ms[i].mod.Weight < ms[j].mod.Weight
		}
		return ms[i].mod.Name < ms[j].mod.Name
	})
}

// Run starts everything and converges until ctx is done.
func (r *Runtime) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := r.start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: not a failure
		}
		return err
	}
	defer r.engine.Stop()
	var wg sync.WaitGroup
	wg.Go(func() { r.convergeLoop(ctx) })
	wg.Go(func() { r.resyncLoop(ctx) })
	wg.Go(func() { r.status.run(ctx) })
	r.runWebhooks(ctx, &wg)
	r.requestConverge("startup")
	<-ctx.Done()
	wg.Wait()
	return nil
}

// start runs the global startup (onStartup, watches, schedules) and the
// config watch; it returns once the config has been read.
func (r *Runtime) start(ctx context.Context) error {
	if err := r.ensureNamespace(ctx); err != nil {
		return err
	}
	if err := r.adoptReleases(ctx); err != nil {
		return err
	}
	r.engine.Start(ctx)
	if err := r.startGlobal(ctx); err != nil {
		r.engine.Stop()
		return err
	}
	w := &configWatch{
		kube:      r.kube,
		dyn:       r.dyn,
		namespace: r.opts.Namespace,
		configMap: r.opts.ConfigMap,
		names:     r.moduleNamesByKey,
		onChange:  r.onConfig,
		log:       r.log,
	}
	if err := w.start(ctx, r.opts.ModuleConfigs); err != nil {
		r.engine.Stop()
		return err
	}
	return nil
}

// requestConverge asks the converge loop for a pass; requests made while one
// is pending are absorbed by it.
func (r *Runtime) requestConverge(reason string) {
	select {
	case r.converge <- reason:
	default:
	}
}

func (r *Runtime) convergeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case reason := <-r.converge:
			start := time.Now()
			if err := r.convergeOnce(ctx, reason); err != nil && ctx.Err() == nil {
				r.log.Error("converge failed; retrying", "reason", reason, "error", err)
				r.metrics.convergeErrors.Inc()
				select {
				case <-ctx.Done():
					return
				case <-time.After(r.opts.Backoff(1)):
				}
				r.requestConverge("retry")
				continue
			}
			r.metrics.convergeSeconds.Observe(time.Since(start).Seconds())
		}
	}
}

// resyncLoop reconciles every enabled module now and then, so drift (a
// deleted object, a release left pending) is repaired.
func (r *Runtime) resyncLoop(ctx context.Context) {
	t := time.NewTicker(r.opts.Resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, s := range r.orderedModules() {
				s.mu.Lock()
				want := s.desired
				s.mu.Unlock()
				if want {
					r.enqueueReconcile(s)
				}
			}
		}
	}
}

// enqueueReconcile queues one reconcile in the module's lane unless one is
// queued already (it will read the newest state when it runs).
func (r *Runtime) enqueueReconcile(s *moduleState) {
	s.mu.Lock()
	if s.queued {
		s.mu.Unlock()
		return
	}
	s.queued = true
	s.mu.Unlock()
	r.engine.Queues().Add(s.lane, queue.Task{Subject: s.mod.Name, Kind: kindReconcile, Description: "converge"})
}

// handle runs the runtime's own task kinds.
func (r *Runtime) handle(ctx context.Context, _ string, t queue.Task) error {
	if t.Kind == kindSwap {
		return r.runSwap(ctx, t.Subject)
	}
	if t.Kind != kindReconcile {
		return fmt.Errorf("unknown task kind %q", t.Kind)
	}
	s := r.module(t.Subject)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	s.queued = false
	s.mu.Unlock()
	err := r.reconcile(ctx, s)
	s.attemptDone()
	if r.once {
		return nil // one attempt per module: the summary reports the error
	}
	return err
}

// Ready reports whether the first converge has run and every enabled module
// converged; if not, why (naming the modules).
func (r *Runtime) Ready() (bool, string) {
	var bad []string
	for _, s := range r.orderedModules() {
		st := s.snapshotStatus()
		if !st.Enabled {
			continue
		}
		if st.Phase != PhaseReady {
			msg := s.mod.Name + ": " + st.Phase
			if st.Error != "" {
				msg += ": " + st.Error
			}
			bad = append(bad, msg)
		}
	}
	if len(bad) == 0 {
		return true, ""
	}
	return false, strings.Join(bad, "\n")
}

// onQueuedRun shows a module hook's failed event or schedule run on its
// Module (the lane retries it), and clears it once that hook succeeds.
func (r *Runtime) onQueuedRun(h *engine.Hook, err error) {
	if h.Module == "" {
		if err != nil {
			r.log.Error("global hook failed; retrying", "hook", h.Name, "error", err)
		}
		return
	}
	s := r.module(h.Module)
	if s == nil {
		return
	}
	changed := false
	s.setStatus(func(st *moduleStatus) {
		switch {
		case err != nil:
			st.Error, st.ErrorSource, st.Ready, st.Phase = err.Error(), h.Name, false, PhaseError
			changed = true
		case st.ErrorSource == h.Name:
			st.Error, st.ErrorSource = "", ""
			if st.Enabled {
				st.Phase, st.Ready = PhaseReady, true
			}
			changed = true
		}
	})
	if changed {
		r.status.enqueue(s)
	}
}

// ensureNamespace creates the release namespace when it is missing.
func (r *Runtime) ensureNamespace(ctx context.Context) error {
	return r.createNamespace(ctx, r.opts.Namespace)
}

// createNamespace creates ns unless it exists.
func (r *Runtime) createNamespace(ctx context.Context, ns string) error {
	_, err := r.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = r.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	return nil
}

// adoptReleases marks modules whose Helm release exists (from an earlier
// run, or from addon-operator) as active, so that a module disabled while
// deckhand was down is still torn down.
func (r *Runtime) adoptReleases(ctx context.Context) error {
	names, err := r.helm.Releases(ctx)
	if err != nil {
		return fmt.Errorf("listing Helm releases in %s: %w", r.opts.Namespace, err)
	}
	for _, name := range names {
		if s := r.module(name); s != nil && !s.broken {
			s.mu.Lock()
			s.active = true
			s.mu.Unlock()
		}
	}
	return nil
}
