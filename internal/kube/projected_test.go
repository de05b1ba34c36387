package kube

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// TestProjectingWatchKeepsOrder feeds typed ConfigMaps, a bookmark and an
// error through a projectingWatch and checks that the events come out in
// their original order, objects reduced to their filter results (a failing
// filter carried as the event's error), the bookmark's resourceVersion and
// annotations kept, and the error event untouched.
func TestProjectingWatchKeepsOrder(t *testing.T) {
	m, err := NewMonitor(nil, WatchSpec{Name: "order", Kind: "ConfigMap", JqFilter: `.data.v | if . == "bad" then error("bad value") else . end`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.res = Resource{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespaced: true}
	store := sourceStore{m: m, src: &source{entries: map[objKey]*entry{}}}

	in := watch.NewFakeWithChanSize(600, false)
	var want []string
	for i := range 500 {
		v := fmt.Sprint(i)
		if i == 250 {
			v = "bad"
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("cm-%d", i), ResourceVersion: fmt.Sprint(1000 + i)}, Data: map[string]string{"v": v}}
		typ := watch.Added
		if i%3 == 1 {
			typ = watch.Modified
		}
		in.Action(typ, cm)
		if v == "bad" {
			want = append(want, fmt.Sprintf("%s ns/cm-%d rv=%d error", typ, i, 1000+i))
		} else {
			want = append(want, fmt.Sprintf("%s ns/cm-%d rv=%d %q", typ, i, 1000+i, v))
		}
	}
	in.Action(watch.Bookmark, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "2000", Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}})
	want = append(want, "BOOKMARK rv=2000 initial-events-end=true")
	in.Action(watch.Error, &metav1.Status{Message: "gone"})
	want = append(want, "ERROR gone")
	in.Stop()

	w := newProjectingWatch(context.Background(), in, store.projectObject)
	defer w.Stop()
	var got []string
	for ev := range w.ResultChan() {
		switch o := ev.Object.(type) {
		case *projected:
			switch {
			case ev.Type == watch.Bookmark:
				got = append(got, fmt.Sprintf("%s rv=%s initial-events-end=%s", ev.Type, o.ResourceVersion, o.Annotations[metav1.InitialEventsAnnotationKey]))
			case o.err != nil:
				if !strings.Contains(o.err.Error(), "bad value") {
					t.Errorf("error of %s: %v", o.Name, o.err)
				}
				got = append(got, fmt.Sprintf("%s %s/%s rv=%s error", ev.Type, o.Namespace, o.Name, o.ResourceVersion))
			default:
				got = append(got, fmt.Sprintf("%s %s/%s rv=%s %s", ev.Type, o.Namespace, o.Name, o.ResourceVersion, o.entry.filter))
			}
		case *metav1.Status:
			got = append(got, fmt.Sprintf("%s %s", ev.Type, o.Message))
		default:
			t.Fatalf("unexpected object %T", ev.Object)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
