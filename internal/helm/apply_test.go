package helm

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// An upgrade the API server refuses is recorded failed, names the object,
// and leaves the previous revision's objects serving; the next good Apply
// upgrades over it.
func TestApplyRefusedUpgradeKeepsPrevious(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "refused")
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cfg)
	c, err := NewClient(cfg, ns)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeChart(t, dir, "ref", `{x: "1"}`)
	vals := map[string]any{"mod": map[string]any{"v": "one"}}
	if _, err := c.Apply(ctx, ApplyOptions{Release: "ref", ChartDir: dir, Values: vals}); err != nil {
		t.Fatal(err)
	}
	// The ConfigMap "ref-b" is replaced by one the API server refuses.
	testenv.WriteFiles(t, dir, map[string]string{"templates/a.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: ref-a}
data: {v: {{ .Values.mod.v | quote }}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: Not_A_Name}
data: {x: "2"}
`})
	_, err = c.Apply(ctx, ApplyOptions{Release: "ref", ChartDir: dir, Values: vals})
	if err == nil || !strings.Contains(err.Error(), "Not_A_Name") {
		t.Fatalf("refused upgrade: %v", err)
	}
	if rev, status, err := c.Status(ctx, "ref"); err != nil || rev != 2 || status != "failed" {
		t.Fatalf("Status = %d %q %v", rev, status, err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "ref-b", metav1.GetOptions{}); err != nil {
		t.Fatalf("ref-b of revision 1 after the failed upgrade: %v", err)
	}
	writeChart(t, dir, "ref", `{x: "3"}`)
	res, err := c.Apply(ctx, ApplyOptions{Release: "ref", ChartDir: dir, Values: vals})
	if err != nil || res.Revision != 3 || !strings.Contains(res.Reason, "failed") {
		t.Fatalf("after the fix: %+v %v", res, err)
	}
	if rev, status, err := c.Status(ctx, "ref"); err != nil || rev != 3 || status != "deployed" {
		t.Fatalf("Status = %d %q %v", rev, status, err)
	}
}

// The chart's crds/ are applied before its templates, which use the kind;
// a deleted CRD is put back; uninstalling leaves the CRD (as Helm does).
func TestApplyCRDsFirst(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "crds")
	ctx := context.Background()
	c, err := NewClient(cfg, ns)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: gadgets\nversion: 0.1.0\n",
		"crds/gadget.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: helmgadgets.helmtest.deckhand.io}
spec:
  group: helmtest.deckhand.io
  names: {kind: HelmGadget, plural: helmgadgets, singular: helmgadget, listKind: HelmGadgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-doc-search: documentation only
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`,
		"crds/doc-ru-gadget.yaml": "not: a CRD\n",
		"templates/g.yaml": `apiVersion: helmtest.deckhand.io/v1
kind: HelmGadget
metadata: {name: g1}
spec: {size: {{ .Values.mod.size }}}
`,
	})
	vals := map[string]any{"mod": map[string]any{"size": 3}}
	res, err := c.Apply(ctx, ApplyOptions{Release: "gadgets", ChartDir: dir, Values: vals})
	if err != nil || res.Revision != 1 {
		t.Fatalf("install: %+v %v", res, err)
	}
	dyn := dynamic.NewForConfigOrDie(cfg)
	gvr := schema.GroupVersionResource{Group: "helmtest.deckhand.io", Version: "v1", Resource: "helmgadgets"}
	if _, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, "g1", metav1.GetOptions{}); err != nil {
		t.Fatalf("g1: %v", err)
	}
	res, err = c.Apply(ctx, ApplyOptions{Release: "gadgets", ChartDir: dir, Values: vals})
	if err != nil || res.Upgraded {
		t.Fatalf("same inputs: %+v %v", res, err)
	}
	// The CRD is deleted (and its objects with it): both are put back.
	if err := dyn.Resource(crdGVR).Delete(ctx, "helmgadgets.helmtest.deckhand.io", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, "CRD deleted", func() (bool, string) {
		_, err := dyn.Resource(crdGVR).Get(ctx, "helmgadgets.helmtest.deckhand.io", metav1.GetOptions{})
		return apierrors.IsNotFound(err), "still there"
	})
	res, err = c.Apply(ctx, ApplyOptions{Release: "gadgets", ChartDir: dir, Values: vals})
	if err != nil || !res.Upgraded || !strings.Contains(res.Reason, "missing") {
		t.Fatalf("CRD deleted: %+v %v", res, err)
	}
	if _, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, "g1", metav1.GetOptions{}); err != nil {
		t.Fatalf("g1 after the CRD was put back: %v", err)
	}
	if existed, err := c.Uninstall(ctx, "gadgets"); err != nil || !existed {
		t.Fatalf("Uninstall = %v %v", existed, err)
	}
	if _, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, "g1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("g1 after uninstall: %v", err)
	}
}
