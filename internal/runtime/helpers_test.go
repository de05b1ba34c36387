package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/api/crds"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// env is one test's cluster: the shared API server, a namespace of its own
// (releases and the ConfigMap live there) and clients.
type env struct {
	cfg  *rest.Config
	ns   string
	kube kubernetes.Interface
	dyn  dynamic.Interface
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := testenv.ControlPlane(t).Config
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := crds.Install(ctx, cfg); err != nil {
		t.Fatalf("installing CRDs: %v", err)
	}
	e := &env{cfg: cfg, ns: testenv.Namespace(t, cfg, "rt")}
	var err error
	if e.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if e.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// start runs a Runtime over dir until the test ends.
func (e *env) start(t *testing.T, dir string, tweak ...func(*Options)) *Runtime {
	t.Helper()
	opts := Options{
		ModulesDirs:   []string{dir},
		Namespace:     e.ns,
		ConfigMap:     "addon-operator",
		ModuleConfigs: true,
		RestConfig:    e.cfg,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Backoff:       func(int) time.Duration { return 300 * time.Millisecond },
		HookTimeout:   time.Minute,
	}
	for _, f := range tweak {
		f(&opts)
	}
	rt, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := rt.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return rt
}

// configMapData returns a ConfigMap's data in the test namespace, nil when absent.
func (e *env) configMapData(name string) map[string]string {
	cm, err := e.kube.CoreV1().ConfigMaps(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	if cm.Data == nil {
		return map[string]string{}
	}
	return cm.Data
}

func (e *env) waitConfigMap(t *testing.T, name string, ok func(map[string]string) bool) map[string]string {
	t.Helper()
	var data map[string]string
	testenv.WaitFor(t, 90*time.Second, "ConfigMap "+name, func() (bool, string) {
		data = e.configMapData(name)
		return data != nil && ok(data), fmt.Sprint(data)
	})
	return data
}

func (e *env) waitGone(t *testing.T, name string) {
	t.Helper()
	testenv.WaitFor(t, 90*time.Second, "ConfigMap "+name+" deleted", func() (bool, string) {
		_, err := e.kube.CoreV1().ConfigMaps(e.ns).Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// module returns the Module object's status.
func (e *env) moduleStatus(name string) map[string]any {
	u, err := e.dyn.Resource(ModuleGVR).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	st, _, _ := unstructured.NestedMap(u.Object, "status")
	return st
}

func (e *env) waitModule(t *testing.T, name string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	var st map[string]any
	testenv.WaitFor(t, 90*time.Second, "Module "+name, func() (bool, string) {
		st = e.moduleStatus(name)
		return st != nil && ok(st), fmt.Sprint(st)
	})
	return st
}

func phaseIs(p string) func(map[string]any) bool {
	return func(st map[string]any) bool { return st["phase"] == p }
}

// applyModuleConfig creates or replaces a ModuleConfig.
func (e *env) applyModuleConfig(t *testing.T, name string, spec map[string]any) {
	t.Helper()
	ctx := context.Background()
	c := e.dyn.Resource(ModuleConfigGVR)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "deckhouse.io/v1alpha1", "kind": "ModuleConfig",
		"metadata": map[string]any{"name": name}, "spec": spec,
	}}
	cur, err := c.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if _, err := c.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Delete(context.Background(), name, metav1.DeleteOptions{}) })
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	cur.Object["spec"] = spec
	if _, err := c.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// setConfigMap writes addon-operator's ConfigMap in the test namespace.
func (e *env) setConfigMap(t *testing.T, data map[string]string) {
	t.Helper()
	ctx := context.Background()
	c := e.kube.CoreV1().ConfigMaps(e.ns)
	cur, err := c.Get(ctx, "addon-operator", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "addon-operator"}, Data: data}
		if _, err := c.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	cur.Data = data
	if _, err := c.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}
