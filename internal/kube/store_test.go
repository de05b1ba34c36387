package kube

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func cmObject(ns, name, v string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns, "generation": int64(1)},
		"data":     map[string]any{"v": v},
	}}
}

// TestSourceStoreRelist drives the reflector-facing store directly: the first
// list produces Synchronization; a relist (the watch could not resume) is
// diffed into the Added/Modified/Deleted events the hook missed.
func TestSourceStoreRelist(t *testing.T) {
	m, err := NewMonitor(nil, WatchSpec{Name: "relist", Kind: "ConfigMap", JqFilter: ".data.v"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := &source{entries: map[objKey]*entry{}}
	m.sources["/"] = src
	m.nsSynced = true
	st := sourceStore{m: m, src: src}

	events := func() string {
		var out []string
		for _, ev := range m.queue {
			out = append(out, describe(ev))
		}
		m.queue = nil
		return strings.Join(out, "; ")
	}
	if err := st.Replace([]any{cmObject("ns", "b", "1"), cmObject("ns", "a", "1"), cmObject("ns", "x", "1")}, "1"); err != nil {
		t.Fatal(err)
	}
	if got := events(); got != `Sync["1" "1" "1"]` {
		t.Fatalf("first list: %s", got)
	}
	if err := st.Replace([]any{cmObject("ns", "a", "2"), cmObject("ns", "c", "1"), cmObject("ns", "x", "1")}, "2"); err != nil {
		t.Fatal(err)
	}
	if got := events(); got != `Modified a "2"; Added c "1"; Deleted b "1"` {
		t.Fatalf("relist: %s", got)
	}
	// Watch events after that: same filter result is suppressed.
	_ = st.Update(cmObject("ns", "x", "1"))
	_ = st.Update(cmObject("ns", "x", "3"))
	_ = st.Delete(cmObject("ns", "never-seen", "1"))
	if got := events(); got != `Modified x "3"` {
		t.Fatalf("watch events: %s", got)
	}
	if got := snapshotString(m); got != `"2" "1" "3"` {
		t.Fatalf("snapshot: %s", got)
	}
	// A relist that finds what the watch already delivered (the watch
	// expired with 410 Gone, or the API server restarted, with no change
	// meanwhile) reports nothing: no second Synchronization, no repeated
	// events. An object whose filter result is unchanged but which was
	// updated is no event either.
	current := []any{cmObject("ns", "x", "3"), cmObject("ns", "a", "2"), cmObject("ns", "c", "1")}
	current[0].(*unstructured.Unstructured).SetAnnotations(map[string]string{"touched": "yes"})
	if err := st.Replace(current, "3"); err != nil {
		t.Fatal(err)
	}
	if got := events(); got != "" {
		t.Fatalf("relist without changes: %s", got)
	}
	if got := snapshotString(m); got != `"2" "1" "3"` {
		t.Fatalf("snapshot after the second relist: %s", got)
	}
}
