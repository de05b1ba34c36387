package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// WaitForCondition waits until the object's status.conditions holds type
// condType with status "True". On timeout the failure shows the conditions
// last seen (or why the object could not be read).
func WaitForCondition(t testing.TB, cfg *rest.Config, gvr schema.GroupVersionResource, namespace, name, condType string, timeout time.Duration) *unstructured.Unstructured {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var obj *unstructured.Unstructured
	WaitFor(t, timeout, fmt.Sprintf("%s %s/%s condition %s=True", gvr.Resource, namespace, name, condType), func() (bool, string) {
		var ri dynamic.ResourceInterface = dyn.Resource(gvr)
		if namespace != "" {
			ri = dyn.Resource(gvr).Namespace(namespace)
		}
		obj, err = ri.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == condType && m["status"] == "True" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("status.conditions = %v", conds)
	})
	return obj
}
