package deckhand_test

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/deckhand-dev/deckhand/api/crds"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestApplyToAPIServer: the default render is valid for a real kube-apiserver
// (schema, RBAC rules, field values), and the objects are stored as rendered.
// The ServiceMonitor is off by default, so no prometheus-operator CRD is needed.
func TestApplyToAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test kube-apiserver")
	}
	cp := testenv.ControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// As `helm install` does with crds/ before the templates.
	if err := crds.Install(ctx, cp.Config); err != nil {
		t.Fatalf("installing the CRDs: %v", err)
	}
	namespace := testenv.Namespace(t, cp.Config, "deckhand-chart")
	r := render(t, namespace, nil)
	if n := r.kinds()["ServiceMonitor"]; n != 0 {
		t.Fatalf("default render has %d ServiceMonitors; their CRD is not in the test API server", n)
	}
	applied, err := testenv.ApplyYAML(ctx, cp.Config, r.manifest)
	if err != nil {
		t.Fatalf("applying the default render: %v", err)
	}
	if len(applied) != len(r.objs) {
		t.Fatalf("applied %d objects, rendered %d", len(applied), len(r.objs))
	}

	// Read every object back through discovery, as kubectl get would.
	dc, err := discovery.NewDiscoveryClientForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range r.objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s %s: %v", gvk.Kind, o.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if o.GetNamespace() != namespace {
				t.Errorf("%s %s: namespace %q, want %q", gvk.Kind, o.GetName(), o.GetNamespace(), namespace)
			}
			ri = dyn.Resource(m.Resource).Namespace(namespace)
		} else {
			// Cluster-scoped objects outlive the test namespace.
			name := o.GetName()
			t.Cleanup(func() { _ = ri.Delete(context.Background(), name, metav1.DeleteOptions{}) })
		}
		got, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s %s not in the API server: %v", gvk.Kind, o.GetName(), err)
			continue
		}
		if got.GetLabels()["app.kubernetes.io/instance"] != "deckhand" {
			t.Errorf("%s %s: labels %v", gvk.Kind, o.GetName(), got.GetLabels())
		}
	}

	// The stored Deployment keeps what the operator relies on.
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	u, err := dyn.Resource(deployments).Namespace(namespace).Get(ctx, "deckhand", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &appsv1.Deployment{}
	convert(t, u, d)
	if *d.Spec.Replicas != 2 || len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("stored Deployment spec = %+v", d.Spec)
	}
	if args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "--leader-elect --namespace="+namespace+" ") {
		t.Errorf("stored Deployment args = %q", args)
	}
}
