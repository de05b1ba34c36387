package operator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/deckhand-dev/deckhand/api/crds"
	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/release"
	"github.com/deckhand-dev/deckhand/internal/runtime"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// DefaultLeaderElectionID names the Lease the replicas compete for.
const DefaultLeaderElectionID = "deckhand-operator"

// Options configure Run.
type Options struct {
	RestConfig *rest.Config
	// ModulesDirs hold embedded modules (MODULES_DIR).
	ModulesDirs    []string
	GlobalHooksDir string
	// DownloadedDir holds the versions downloaded from sources (DOWNLOADED_MODULES_DIR).
	DownloadedDir string
	Namespace     string
	// ConfigMap is addon-operator's ConfigMap ("-": none).
	ConfigMap string
	// LeaderElect makes replicas take turns: only the leader runs modules
	// and controllers.
	LeaderElect             bool
	LeaderElectionNamespace string
	LeaderElectionID        string
	// MetricsAddr serves /metrics and /metrics/hooks ("0" disables).
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz ("0" disables).
	ProbeAddr    string
	ScanInterval time.Duration
	HookTimeout  time.Duration
	// Executor runs hook processes (default hook.ShellExecutor); the command
	// passes a hook.Gate so a shutdown lets running hooks finish.
	Executor    hook.Executor
	Resync      time.Duration
	InstallCRDs bool
	Logger      *slog.Logger
	// RegistryOptions are added to every registry client (tests: a transport).
	RegistryOptions []registry.Option
	// Metrics gets the runtime's and the controllers' metrics (default:
	// controller-runtime's registry, served on MetricsAddr).
	Metrics prometheus.Registerer
	// Webhook, when set, serves module hooks' admission and conversion
	// bindings and deckhand's ModuleConfig check (Runner and clients are
	// filled in).
	Webhook *webhook.Options
	// Ready is called once the leader's first converge is under way (tests).
	Ready func()
}

// Run runs the operator until ctx ends.
func Run(ctx context.Context, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DownloadedDir == "" {
		return errors.New("operator: a downloaded modules directory is required (--downloaded-dir or DOWNLOADED_MODULES_DIR)")
	}
	if o.Namespace == "" {
		o.Namespace = runtime.DefaultNamespace
	}
	if o.LeaderElectionID == "" {
		o.LeaderElectionID = DefaultLeaderElectionID
	}
	if o.LeaderElectionNamespace == "" {
		o.LeaderElectionNamespace = o.Namespace
	}
	if o.InstallCRDs {
		if err := crds.Install(ctx, o.RestConfig); err != nil {
			return fmt.Errorf("installing the deckhouse.io CRDs (pass --install-crds=false if they are managed elsewhere): %w", err)
		}
	}
	if err := ensureNamespace(ctx, o.RestConfig, o.LeaderElectionNamespace); err != nil {
		return err
	}
	store := release.Store{Root: o.DownloadedDir}
	live, err := store.LiveAll()
	if err != nil {
		return fmt.Errorf("reading %s: %w", o.DownloadedDir, err)
	}
	mds := make([]runtime.ModuleDir, len(live))
	for i, l := range live {
		mds[i] = runtime.ModuleDir{Name: l.Module, Dir: l.Dir, Registry: l.Registry}
	}
	metricsReg := o.Metrics
	if metricsReg == nil {
		metricsReg = ctrlmetrics.Registry
	}
	hookReg := prometheus.NewRegistry()
	var rt *runtime.Runtime
	var webhooks []webhook.Options
	var validators []webhook.Validator
	if o.Webhook != nil {
		direct, err := NewClient(o.RestConfig)
		if err != nil {
			return err
		}
		webhooks = []webhook.Options{*o.Webhook}
		validators = []webhook.Validator{moduleConfigValidator(direct, func() settingsChecker { return rt })}
	}
	rt, err = runtime.New(runtime.Options{
		Webhooks:       webhooks,
		Validators:     validators,
		ModulesDirs:    o.ModulesDirs,
		GlobalHooksDir: o.GlobalHooksDir,
		Modules:        mds,
		AllowEmpty:     true,
		Namespace:      o.Namespace,
		ConfigMap:      o.ConfigMap,
		ModuleConfigs:  true,
		RestConfig:     o.RestConfig,
		Logger:         o.Logger,
		Registry:       metricsReg,
		HookRegistry:   hookReg,
		HookTimeout:    o.HookTimeout,
		Executor:       o.Executor,
		Resync:         o.Resync,
	})
	if err != nil {
		return err
	}
	scheme, err := Scheme()
	if err != nil {
		return err
	}
	logger := logr.FromSlogHandler(o.Logger.Handler())
	// controller-runtime's own packages log through its global logger.
	ctrl.SetLogger(logger)
	mgr, err := ctrl.NewManager(o.RestConfig, ctrl.Options{
		Scheme: scheme,
		Logger: logger,
		Metrics: metricsserver.Options{
			BindAddress:   o.MetricsAddr,
			ExtraHandlers: map[string]http.Handler{"/metrics/hooks": promhttp.HandlerFor(hookReg, promhttp.HandlerOpts{})},
		},
		HealthProbeBindAddress:        o.ProbeAddr,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              o.LeaderElectionID,
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	// The runtime runs on the leader only, like the controllers.
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		o.Logger.Info("leading: running modules", "downloaded", o.DownloadedDir, "embedded", filepath.Join(o.ModulesDirs...))
		if o.Ready != nil {
			o.Ready()
		}
		return rt.Run(ctx)
	})); err != nil {
		return err
	}
	if err := release.Setup(mgr, release.Options{
		Store:        store,
		Runner:       rt,
		Registries:   &release.Registries{Options: o.RegistryOptions},
		ScanInterval: o.ScanInterval,
		Metrics:      metricsReg,
		Logger:       o.Logger,
	}); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

func ensureNamespace(ctx context.Context, cfg *rest.Config, ns string) error {
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_, err = kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.IsForbidden(err) {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	return nil
}

// Scheme knows the built-in kinds and the deckhouse.io kinds.
func Scheme() (*kruntime.Scheme, error) {
	scheme := kruntime.NewScheme()
	for _, add := range []func(*kruntime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme, v1alpha2.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return scheme, nil
}

// NewClient is a direct (uncached) client for the deckhouse.io kinds, for
// commands that read once.
func NewClient(cfg *rest.Config) (client.Client, error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}
