package release

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
)

// Options configure the operator's controllers.
type Options struct {
	// Store is where downloaded versions live.
	Store Store
	// Runner runs module versions (the module runtime).
	Runner Runner
	// Registries builds registry clients (a new Registries when nil).
	Registries *Registries
	// ScanInterval is how often each ModuleSource is scanned (DefaultScanInterval).
	ScanInterval time.Duration
	// Metrics gets the operator's metrics (nil: a private registry).
	Metrics prometheus.Registerer
	Logger  *slog.Logger
}

// Setup adds the source and module controllers to mgr. Both run only on
// the leader.
func Setup(mgr ctrl.Manager, o Options) error {
	if o.Runner == nil {
		return errors.New("release: a Runner is required")
	}
	if o.Registries == nil {
		o.Registries = &Registries{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	reg := o.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := NewMetrics(reg)
	if err != nil {
		return err
	}
	kubeVersion := ""
	if dc, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig()); err == nil {
		if v, err := dc.ServerVersion(); err == nil {
			kubeVersion = v.GitVersion
		}
	}
	// SkipNameValidation: a process may run the controllers more than once
	// (one operator after another in tests and benchmarks);
	// controller-runtime otherwise refuses a name it has seen.
	c := mgr.GetClient()
	src := &SourceReconciler{
		Client: c, Registries: o.Registries, Interval: o.ScanInterval, Metrics: m,
		Recorder: mgr.GetEventRecorderFor("deckhand-source"), Log: o.Logger.With("controller", "modulesource"),
	}
	allSources := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		var list v1alpha1.ModuleSourceList
		if err := c.List(ctx, &list); err != nil {
			return nil
		}
		out := make([]reconcile.Request, len(list.Items))
		for i, ms := range list.Items {
			out[i].Name = ms.Name
		}
		return out
	})
	if err := ctrl.NewControllerManagedBy(mgr).
		Named("modulesource").
		For(&v1alpha1.ModuleSource{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&v1alpha1.ModuleConfig{}, allSources, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha2.ModuleUpdatePolicy{}, allSources, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: ptr.To(true)}).
		Complete(src); err != nil {
		return err
	}
	mod := &ModuleReconciler{
		Client: c, APIReader: mgr.GetAPIReader(), Registries: o.Registries, Store: o.Store, Runner: o.Runner, Metrics: m, KubeVersion: kubeVersion,
		Recorder: mgr.GetEventRecorderFor("deckhand-release"), Log: o.Logger.With("controller", "modulerelease"),
	}
	byName := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: o.GetName()}}}
	})
	byModuleLabel := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		if m := o.GetLabels()[v1alpha1.LabelModule]; m != "" {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: m}}}
		}
		return nil
	})
	byPolicy := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, p client.Object) []reconcile.Request {
		var list v1alpha1.ModuleConfigList
		if err := c.List(ctx, &list); err != nil {
			return nil
		}
		var out []reconcile.Request
		for _, mc := range list.Items {
			if mc.Spec.UpdatePolicy == p.GetName() {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: mc.Name}})
			}
		}
		return out
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("modulerelease").
		Watches(&v1alpha1.ModuleRelease{}, byModuleLabel).
		Watches(&v1alpha1.ModuleConfig{}, byName, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.Module{}, byName, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha2.ModulePullOverride{}, byName).
		Watches(&v1alpha2.ModuleUpdatePolicy{}, byPolicy).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4, SkipNameValidation: ptr.To(true)}).
		Complete(mod)
}
