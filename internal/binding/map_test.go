package binding

import (
	"encoding/json"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
)

func TestWatchSpecMapsEveryField(t *testing.T) {
	labels := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
	nsLabels := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "y"}}
	b := hook.KubernetesBinding{Name: "cms", Watch: hook.WatchSpec{
		APIVersion:              "v1",
		Kind:                    "ConfigMap",
		NameSelector:            []string{"one"},
		LabelSelector:           labels,
		FieldSelector:           []hook.FieldRequirement{{Field: "metadata.namespace", Operator: "!=", Value: "kube-system"}},
		Namespace:               hook.NamespaceSelector{MatchNames: []string{"a"}, LabelSelector: nsLabels},
		JqFilter:                ".data",
		KeepFullObjectsInMemory: true,
	}}
	want := kube.WatchSpec{
		Name:                    "cms",
		APIVersion:              "v1",
		Kind:                    "ConfigMap",
		NameSelector:            []string{"one"},
		LabelSelector:           labels,
		FieldSelector:           []kube.FieldRequirement{{Field: "metadata.namespace", Operator: "!=", Value: "kube-system"}},
		Namespace:               kube.NamespaceSelector{MatchNames: []string{"a"}, LabelSelector: nsLabels},
		JqFilter:                ".data",
		KeepFullObjectsInMemory: true,
	}
	got := WatchSpec(b)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("WatchSpec = %+v\nwant %+v", got, want)
	}
	// A field added to kube.WatchSpec must be mapped here too.
	v := reflect.ValueOf(got)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("kube.WatchSpec.%s is not mapped from the binding", v.Type().Field(i).Name)
		}
	}
}

func TestObjects(t *testing.T) {
	objs := []kube.ObjectAndFilterResult{
		{Object: json.RawMessage(`{"kind":"ConfigMap"}`), FilterResult: json.RawMessage(`{"a":"1"}`)},
		{Object: json.RawMessage(`{"kind":"Secret"}`)},
	}
	filtered := hook.KubernetesBinding{Watch: hook.WatchSpec{JqFilter: ".data"}}
	got := Objects(filtered, objs)
	if len(got) != 2 || !got[0].Filtered || !got[1].Filtered ||
		string(got[0].Object) != `{"kind":"ConfigMap"}` || string(got[0].FilterResult) != `{"a":"1"}` || got[1].FilterResult != nil {
		t.Fatalf("filtered binding: %+v", got)
	}
	if o := Object(objs[1], false); o.Filtered || string(o.Object) != `{"kind":"Secret"}` {
		t.Fatalf("unfiltered object: %+v", o)
	}
	if got := Objects(hook.KubernetesBinding{}, nil); got == nil || len(got) != 0 {
		t.Fatalf("empty snapshot = %#v, want an empty non-nil list", got)
	}
}
