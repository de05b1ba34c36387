package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// ModuleConfigGVR is deckhouse.io/v1alpha1 ModuleConfig.
var ModuleConfigGVR = schema.GroupVersionResource{Group: "deckhouse.io", Version: "v1alpha1", Resource: "moduleconfigs"}

// configWatch keeps the cluster's module config (one ConfigMap and every
// ModuleConfig) and calls onChange with the merged view after each change.
// A missing ConfigMap is an empty config.
type configWatch struct {
	kube      kubernetes.Interface
	dyn       dynamic.Interface
	namespace string
	configMap string // "" = no ConfigMap backend
	names     func() map[string]string
	onChange  func(*Config, []error)
	log       *slog.Logger

	mu      sync.Mutex
	cm      *corev1.ConfigMap
	mcs     map[string]*unstructured.Unstructured
	hasSync bool
}

// start runs the informers until ctx is done and returns once both listed.
func (w *configWatch) start(ctx context.Context, withModuleConfigs bool) error {
	w.mcs = map[string]*unstructured.Unstructured{}
	var synced []cache.InformerSynced
	if w.configMap != "" {
		f := informers.NewSharedInformerFactoryWithOptions(w.kube, 5*time.Minute, informers.WithNamespace(w.namespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", w.configMap).String()
			}))
		inf := f.Core().V1().ConfigMaps().Informer()
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { w.setConfigMap(o) },
			UpdateFunc: func(_, o any) { w.setConfigMap(o) },
			DeleteFunc: func(any) { w.setConfigMap(nil) },
		}); err != nil {
			return err
		}
		f.Start(ctx.Done())
		synced = append(synced, inf.HasSynced)
	}
	if withModuleConfigs {
		f := dynamicinformer.NewDynamicSharedInformerFactory(w.dyn, 5*time.Minute)
		inf := f.ForResource(ModuleConfigGVR).Informer()
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { w.setModuleConfig(o, false) },
			UpdateFunc: func(_, o any) { w.setModuleConfig(o, false) },
			DeleteFunc: func(o any) { w.setModuleConfig(o, true) },
		}); err != nil {
			return err
		}
		f.Start(ctx.Done())
		synced = append(synced, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("reading module config: %w", context.Cause(ctx))
	}
	w.mu.Lock()
	w.hasSync = true
	w.mu.Unlock()
	w.notify()
	return nil
}

func (w *configWatch) setConfigMap(o any) {
	cm, _ := o.(*corev1.ConfigMap)
	w.mu.Lock()
	w.cm = cm
	w.mu.Unlock()
	w.notify()
}

func (w *configWatch) setModuleConfig(o any, deleted bool) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return
	}
	w.mu.Lock()
	if deleted {
		delete(w.mcs, u.GetName())
	} else {
		w.mcs[u.GetName()] = u
	}
	w.mu.Unlock()
	w.notify()
}

// notify builds the merged config and hands it on, once the informers
// have listed (before that, a partial view would disable modules).
func (w *configWatch) notify() {
	w.mu.Lock()
	if !w.hasSync {
		w.mu.Unlock()
		return
	}
	cm := w.cm
	mcs := make([]*unstructured.Unstructured, 0, len(w.mcs))
	for _, u := range w.mcs {
		mcs = append(mcs, u)
	}
	w.mu.Unlock()
	sort.Slice(mcs, func(i, j int) bool { return mcs[i].GetName() < mcs[j].GetName() })
	base := &Config{Modules: map[string]ModuleConfig{}}
	var errs []error
	if cm != nil {
		base, errs = parseConfigMap(fmt.Sprintf("ConfigMap %s/%s", cm.Namespace, cm.Name), cm.Data, w.names())
	}
	over := &Config{Modules: map[string]ModuleConfig{}}
	for _, u := range mcs {
		mc, err := parseModuleConfig(u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if u.GetName() == GlobalConfigName {
			over.Global = mc.Settings
			continue
		}
		over.Modules[u.GetName()] = mc
	}
	w.onChange(merge(base, over), errs)
}

// parseModuleConfig reads the fields DKP's ModuleConfig has: spec.enabled,
// spec.version, spec.settings, spec.maintenance.
func parseModuleConfig(u *unstructured.Unstructured) (ModuleConfig, error) {
	from := "ModuleConfig " + u.GetName()
	mc := ModuleConfig{From: from}
	if v, ok, err := unstructured.NestedBool(u.Object, "spec", "enabled"); err != nil {
		return mc, &ConfigError{From: from, Field: "spec.enabled", Err: err}
	} else if ok {
		mc.Enabled = ptr(v)
	}
	if v, ok, err := unstructured.NestedFieldNoCopy(u.Object, "spec", "version"); err != nil {
		return mc, &ConfigError{From: from, Field: "spec.version", Err: err}
	} else if ok {
		n, isNum := toInt(v)
		if !isNum {
			return mc, &ConfigError{From: from, Field: "spec.version", Err: fmt.Errorf("want an integer, got %v", v)}
		}
		mc.Version = n
	}
	if v, ok, err := unstructured.NestedMap(u.Object, "spec", "settings"); err != nil {
		return mc, &ConfigError{From: from, Field: "spec.settings", Err: err}
	} else if ok {
		mc.Settings = v
	}
	mc.Maintenance, _, _ = unstructured.NestedString(u.Object, "spec", "maintenance")
	return mc, nil
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case int:
		return n, true
	case float64:
		if n == float64(int(n)) {
			return int(n), true
		}
	}
	return 0, false
}
