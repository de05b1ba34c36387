package kube

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// TestWireFilterMatchesJSON watches objects of several built-in kinds from
// the real API server through the Monitor's protobuf path with the wire
// filter of each jqFilter (unread fields dropped before decoding, then the
// pruned conversion) and compares the filter's output with its output on
// the same object listed as JSON.
func TestWireFilterMatchesJSON(t *testing.T) {
	c, ns := wireObjects(t)
	for _, kind := range wireKinds {
		t.Run(kind, func(t *testing.T) {
			_, jsonItems, gvk := listBothWays(t, c, ns, kind)
			res, err := c.Resolve("", kind)
			if err != nil {
				t.Fatal(err)
			}
			for _, src := range pruneFilters {
				spec, err := compileSpec(WatchSpec{Name: "b", Kind: kind, JqFilter: src}, nil)
				if err != nil {
					t.Fatal(err)
				}
				var wf *wireFilter
				if spec.pruner != nil {
					obj, err := scheme.Scheme.New(gvk)
					if err != nil {
						t.Fatal(err)
					}
					wf = newWireFilter(gvk, obj, spec.pruner.reads)
				}
				watched := watchAll(t, c.protobuf.filteredClient(res, wf), res, ns, len(jsonItems))
				for i := range jsonItems {
					want := &jsonItems[i]
					obj := watched[want.GetName()]
					if obj == nil {
						t.Fatalf("%s %s was not watched", kind, want.GetName())
					}
					if a, _ := meta.Accessor(obj); a.GetResourceVersion() != want.GetResourceVersion() {
						t.Errorf("%s %s: resourceVersion %q after the wire filter, want %q", kind, want.GetName(), a.GetResourceVersion(), want.GetResourceVersion())
					}
					name := fmt.Sprintf("%s %s, filter %s", kind, want.GetName(), src)
					u, normalized, err := asUnstructured(obj, gvk, spec.pruner)
					if err != nil {
						t.Fatal(err)
					}
					got, gotErr := projectedFilter(spec, u, normalized)
					wantOut, wantErr := spec.jq.filter(want.DeepCopy().Object)
					if (gotErr != nil) != (wantErr != nil) {
						t.Errorf("%s: error %v after filtering, %v on the JSON object", name, gotErr, wantErr)
						continue
					}
					if string(got) != string(wantOut) {
						t.Errorf("%s: output differs\nfiltered: %s\njson:     %s", name, got, wantOut)
					}
				}
			}
		})
	}
}

// TestWireFilterDropsUnreadFields checks that the filter really leaves out
// what is not read: the ConfigMap's annotations, binaryData and
// managedFields, and the values of data (of which only the keys are read,
// by length), do not reach the decoder.
func TestWireFilterDropsUnreadFields(t *testing.T) {
	c, ns := wireObjects(t)
	res, err := c.Resolve("v1", "ConfigMap")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := compileSpec(WatchSpec{Name: "b", Kind: "ConfigMap", JqFilter: `{name: .metadata.name, owner: .metadata.labels.a, size: (.data | length)}`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	wf := newWireFilter(gvk, &corev1.ConfigMap{}, spec.pruner.reads)
	if wf == nil {
		t.Fatal("no wire filter for a filter that reads three fields")
	}
	cm, ok := watchAll(t, c.protobuf.filteredClient(res, wf), res, ns, 2)["full"].(*corev1.ConfigMap)
	if !ok {
		t.Fatal("ConfigMap full was not watched")
	}
	if cm.Name != "full" || cm.Namespace != ns || cm.ResourceVersion == "" || cm.Labels["a"] != "b" {
		t.Errorf("read fields were dropped: %+v", cm)
	}
	if _, ok := cm.Data["k"]; !ok || len(cm.Data) != 2 {
		t.Errorf("data's keys (read by length) were dropped: %+v", cm.Data)
	}
	if cm.Annotations != nil || cm.BinaryData != nil || cm.ManagedFields != nil || cm.UID != "" || !cm.CreationTimestamp.IsZero() || cm.Data["k"] != "" {
		t.Errorf("unread fields (or data's values) were decoded: %+v", cm)
	}
}

func TestWireFilterLeavesOtherDataAlone(t *testing.T) {
	spec, err := compileSpec(WatchSpec{Name: "b", Kind: "ConfigMap", JqFilter: `.data`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wf := newWireFilter(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, &corev1.ConfigMap{}, spec.pruner.reads)
	for name, data := range map[string][]byte{
		"JSON":         []byte(`{"kind":"ConfigMap"}`),
		"truncated":    append(append([]byte{}, protoMagic...), 0x0a, 0x05, 0x0a),
		"garbage":      append(append([]byte{}, protoMagic...), 0xff, 0xff, 0xff),
		"empty":        append([]byte{}, protoMagic...),
		"bookmark":     encodeProto(t, &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{ResourceVersion: "5", Annotations: map[string]string{"k8s.io/initial-events-end": "true"}}}),
		"another kind": encodeProto(t, &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Name: "s"}, Data: map[string][]byte{"a": {1}}}),
		"a list":       encodeProto(t, &corev1.ConfigMapList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMapList"}, Items: []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Name: "x"}}}}),
	} {
		if got := wf.filter(data); string(got) != string(data) {
			t.Errorf("%s: changed to %q", name, got)
		}
	}
	full := encodeProto(t, &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "n", UID: "u"}, Data: map[string]string{"a": "b"}})
	if got := wf.filter(full); len(got) >= len(full) {
		t.Errorf("a named ConfigMap was not filtered: %d bytes in, %d out", len(full), len(got))
	}
}

func encodeProto(t *testing.T, obj runtime.Object) []byte {
	t.Helper()
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		t.Fatal("no protobuf serializer")
	}
	data, err := runtime.Encode(info.Serializer, obj)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// watchAll watches res in ns through rc from resourceVersion 0 (the
// current objects arrive as Added) until n objects were added, and returns
// them by name.
func watchAll(t *testing.T, rc rest.Interface, res Resource, ns string, n int) map[string]runtime.Object {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := metav1.ListOptions{ResourceVersion: "0"}
	if res.Kind == "Namespace" {
		opts.FieldSelector = "metadata.name=" + ns
	}
	w, err := protobufListWatch(rc, res, ns, func(*metav1.ListOptions) {}, func(error) {}).WatchFuncWithContext(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	out := map[string]runtime.Object{}
	for len(out) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				t.Fatalf("watch ended after %d of %d objects: %v", len(out), n, ev.Object)
			}
			if ev.Type != watch.Added {
				continue
			}
			a, err := meta.Accessor(ev.Object)
			if err != nil {
				t.Fatal(err)
			}
			out[a.GetName()] = ev.Object
		case <-ctx.Done():
			t.Fatalf("watched %d of %d objects", len(out), n)
		}
	}
	return out
}
