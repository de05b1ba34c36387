package localenv_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/random"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/deckhand-dev/deckhand/internal/localenv"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestControlPlaneServesCustomResources proves the API server is real: a CRD
// is established, and a custom object is created, watched and deleted.
func TestControlPlaneServesCustomResources(t *testing.T) {
	cp := testenv.ControlPlane(t)
	if _, err := os.Stat(cp.KubeconfigPath); err != nil {
		t.Fatalf("kubeconfig not written: %v", err)
	}
	dyn, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Apply(t, cp.Config, testenv.WidgetCRD)
	testenv.WaitForCondition(t, cp.Config, apiextv1.SchemeGroupVersion.WithResource("customresourcedefinitions"),
		"", "widgets.test.deckhand.io", "Established", 30*time.Second)

	ns := testenv.Namespace(t, cp.Config, "widgets")
	widgets := dyn.Resource(schema.GroupVersionResource{Group: "test.deckhand.io", Version: "v1", Resource: "widgets"}).Namespace(ns)
	w, err := widgets.Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	testenv.Apply(t, cp.Config, "apiVersion: test.deckhand.io/v1\nkind: Widget\nmetadata: {name: w1, namespace: "+ns+"}\nspec: {size: 3}\n")
	expectEvent(t, w, watch.Added, "w1")
	if err := widgets.Delete(context.Background(), "w1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w, watch.Deleted, "w1")
}

func expectEvent(t *testing.T, w watch.Interface, typ watch.EventType, name string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-w.ResultChan():
			u, ok := ev.Object.(*unstructured.Unstructured)
			if ok && ev.Type == typ && u.GetName() == name {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event for %s within 30s", typ, name)
		}
	}
}

// TestRegistriesPushPull pushes a random image through both registries and
// pulls it back by tag, checking the digest survives the round trip.
func TestRegistriesPushPull(t *testing.T) {
	for name, reg := range map[string]*localenv.Registry{
		"docker-registry": testenv.DockerRegistry(t),
		"in-process":      testenv.Registry(t),
	} {
		t.Run(name, func(t *testing.T) {
			img, err := random.Image(1024, 3)
			if err != nil {
				t.Fatal(err)
			}
			want, err := img.Digest()
			if err != nil {
				t.Fatal(err)
			}
			ref := reg.Addr + "/deckhand/nested/path/image:v1"
			if err := crane.Push(img, ref); err != nil {
				t.Fatalf("push %s: %v", ref, err)
			}
			got, err := crane.Pull(ref)
			if err != nil {
				t.Fatalf("pull %s: %v", ref, err)
			}
			gotDigest, err := got.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if gotDigest != want {
				t.Fatalf("digest after round trip = %s, want %s", gotDigest, want)
			}
			layers, err := got.Layers()
			if err != nil || len(layers) != 3 {
				t.Fatalf("pulled %d layers (err %v), want 3", len(layers), err)
			}
		})
	}
}

// TestControlPlaneIgnoresUnusableKubebuilderAssets: an empty (or stale)
// KUBEBUILDER_ASSETS in the environment is passed over by
// EnsureKubeBinaries, and the control plane still starts from the binaries
// it found (envtest alone would look for etcd in $PATH).
func TestControlPlaneIgnoresUnusableKubebuilderAssets(t *testing.T) {
	testenv.ControlPlane(t) // the binaries are in the cache
	for name, value := range map[string]string{"empty": "", "no binaries": t.TempDir()} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("KUBEBUILDER_ASSETS", value)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cp, err := localenv.StartControlPlane(ctx, localenv.ControlPlaneOptions{})
			if err != nil {
				t.Fatalf("KUBEBUILDER_ASSETS=%q: %v", value, err)
			}
			defer func() {
				if err := cp.Stop(); err != nil {
					t.Error(err)
				}
			}()
			dyn, err := dynamic.NewForConfig(cp.Config)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).List(ctx, metav1.ListOptions{}); err != nil {
				t.Fatalf("the API server does not answer: %v", err)
			}
		})
	}
}

// TestRestartAPIServer stops only kube-apiserver and starts it again: while
// it is down requests fail, afterwards the same Config reaches it and the
// data written before is still there (etcd kept running).
func TestRestartAPIServer(t *testing.T) {
	cp := testenv.DedicatedControlPlane(t)
	dyn, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	cms := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("default")
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "survives"}, "data": map[string]any{"k": "v"},
	}}
	if _, err := cms.Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(context.Background(), "survives", metav1.GetOptions{}); err == nil {
		t.Fatal("the API answered while kube-apiserver was stopped")
	}
	if err := cp.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(context.Background(), "survives", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if v, _, _ := unstructured.NestedString(got.Object, "data", "k"); v != "v" {
		t.Fatalf("after the restart data.k = %q, want v", v)
	}
}
