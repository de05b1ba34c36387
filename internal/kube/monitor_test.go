package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// recorder is a Handler that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) handle(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// describe renders an event compactly: "Sync[items]" or "Added ns/name item".
func describe(ev Event) string {
	items := make([]string, len(ev.Objects))
	for i, o := range ev.Objects {
		items[i] = itemString(o)
	}
	if ev.Type == EventSynchronization {
		return "Sync[" + strings.Join(items, " ") + "]"
	}
	return fmt.Sprintf("%s %s %s", ev.WatchEvent, ev.Name, strings.Join(items, " "))
}

// itemString shows the filter result, or the object's name when the object
// is kept ("obj:<name>").
func itemString(o ObjectAndFilterResult) string {
	s := string(o.FilterResult)
	if o.Object != nil {
		var m struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		_ = json.Unmarshal(o.Object, &m)
		s += "obj:" + m.Metadata.Name
	}
	return s
}

// next waits for event number i (0-based) and returns its description.
func (r *recorder) next(t *testing.T, i int) string {
	t.Helper()
	var got string
	testenv.WaitFor(t, 20*time.Second, fmt.Sprintf("event #%d", i), func() (bool, string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.events) > i {
			got = describe(r.events[i])
			return true, ""
		}
		all := make([]string, len(r.events))
		for j, ev := range r.events {
			all[j] = describe(ev)
		}
		return false, strings.Join(all, "; ")
	})
	return got
}

func (r *recorder) expect(t *testing.T, from int, want ...string) int {
	t.Helper()
	for i, w := range want {
		if got := r.next(t, from+i); got != w {
			t.Fatalf("event #%d = %q, want %q", from+i, got, w)
		}
	}
	return from + len(want)
}

func startMonitor(t *testing.T, spec WatchSpec) (*Monitor, *recorder) {
	t.Helper()
	rec := &recorder{}
	m, err := NewMonitor(newTestClient(t), spec, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	return m, rec
}

func snapshotString(m *Monitor) string {
	s := m.Snapshot()
	items := make([]string, len(s))
	for i, o := range s {
		items[i] = itemString(o)
	}
	return strings.Join(items, " ")
}

func configMap(ns, name, labels, data string) string {
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"namespace":%q,"labels":{%s}},"data":{%s}}`, name, ns, labels, data)
}

func patch(t *testing.T, c *Client, kind, ns, name, mergePatch string) {
	t.Helper()
	r, err := c.Resolve("", kind)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.resourceClient(r, ns).Patch(context.Background(), name, types.MergePatchType, []byte(mergePatch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, c *Client, kind, ns, name string) {
	t.Helper()
	r, err := c.Resolve("", kind)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.resourceClient(r, ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestMonitorLabelSelectorJqFilterAndChecksum(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	c := newTestClient(t)
	ns := testenv.Namespace(t, cfg, "mon-label")
	testenv.Apply(t, cfg, configMap(ns, "a", `"app":"x"`, `"v":"1"`))
	testenv.Apply(t, cfg, configMap(ns, "b", `"app":"y"`, `"v":"1"`))

	m, rec := startMonitor(t, WatchSpec{
		Name: "cms", Kind: "ConfigMap",
		Namespace:     NamespaceSelector{MatchNames: []string{ns}},
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
		JqFilter:      `{name: .metadata.name, v: .data.v}`,
	})
	i := rec.expect(t, 0, `Sync[{"name":"a","v":"1"}]`)

	// A change the filter does not see is not delivered: the next event is
	// the data change after it.
	patch(t, c, "ConfigMap", ns, "a", `{"metadata":{"annotations":{"unseen":"yes"}}}`)
	patch(t, c, "ConfigMap", ns, "a", `{"data":{"v":"2"}}`)
	i = rec.expect(t, i, `Modified a {"name":"a","v":"2"}`)

	testenv.Apply(t, cfg, configMap(ns, "c", `"app":"x"`, `"v":"3"`))
	i = rec.expect(t, i, `Added c {"name":"c","v":"3"}`)
	// b enters the label selector, a leaves it, c is deleted.
	patch(t, c, "ConfigMap", ns, "b", `{"metadata":{"labels":{"app":"x"}}}`)
	i = rec.expect(t, i, `Added b {"name":"b","v":"1"}`)
	patch(t, c, "ConfigMap", ns, "a", `{"metadata":{"labels":{"app":"z"}}}`)
	i = rec.expect(t, i, `Deleted a {"name":"a","v":"2"}`)
	remove(t, c, "ConfigMap", ns, "c")
	rec.expect(t, i, `Deleted c {"name":"c","v":"3"}`)

	if got := snapshotString(m); got != `{"name":"b","v":"1"}` {
		t.Errorf("snapshot = %s", got)
	}
	if m.Len() != 1 {
		t.Errorf("Len = %d", m.Len())
	}
}

func TestMonitorKeepFullObjectsWithoutFilter(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	c := newTestClient(t)
	ns := testenv.Namespace(t, cfg, "mon-full")
	testenv.Apply(t, cfg, configMap(ns, "b", "", `"v":"1"`))
	testenv.Apply(t, cfg, configMap(ns, "a", "", `"v":"1"`))

	m, rec := startMonitor(t, WatchSpec{
		Name: "full", Kind: "cm", APIVersion: "v1",
		Namespace:               NamespaceSelector{MatchNames: []string{ns}},
		KeepFullObjectsInMemory: true,
	})
	i := rec.expect(t, 0, `Sync[obj:a obj:b]`)
	// Without a jqFilter the checksum covers the whole object, so any
	// change is delivered.
	patch(t, c, "ConfigMap", ns, "a", `{"metadata":{"annotations":{"x":"1"}}}`)
	rec.expect(t, i, `Modified a obj:a`)

	snap := m.Snapshot()
	var obj struct {
		Metadata struct{ Annotations map[string]string } `json:"metadata"`
	}
	if err := json.Unmarshal(snap[0].Object, &obj); err != nil || obj.Metadata.Annotations["x"] != "1" || snap[0].FilterResult != nil {
		t.Errorf("snapshot[0] = %s / %s (%v)", snap[0].Object, snap[0].FilterResult, err)
	}
	// The binding-context JSON shape: object present, no filterResult key.
	b, _ := json.Marshal(snap[1])
	if !strings.HasPrefix(string(b), `{"object":{`) || strings.Contains(string(b), "filterResult") {
		t.Errorf("item JSON = %s", b)
	}
}

func TestMonitorKeepFullObjectsFalseWithFilter(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "mon-lean")
	testenv.Apply(t, cfg, configMap(ns, "a", "", `"v":"1"`))
	m, _ := startMonitor(t, WatchSpec{
		Name: "lean", Kind: "configmaps",
		Namespace: NamespaceSelector{MatchNames: []string{ns}},
		JqFilter:  ".data.missing",
	})
	snap := m.Snapshot()
	if len(snap) != 1 || snap[0].Object != nil || string(snap[0].FilterResult) != "null" {
		t.Fatalf("snapshot = %+v", snap)
	}
	b, _ := json.Marshal(snap[0])
	if string(b) != `{"filterResult":null}` {
		t.Errorf("item JSON = %s", b)
	}
}

func TestMonitorNameAndFieldSelectors(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	c := newTestClient(t)
	ns := testenv.Namespace(t, cfg, "mon-names")
	for _, n := range []string{"a", "b", "c"} {
		testenv.Apply(t, cfg, configMap(ns, n, "", `"v":"1"`))
	}
	byName, recN := startMonitor(t, WatchSpec{
		Name: "names", Kind: "ConfigMap", JqFilter: ".metadata.name",
		NameSelector: []string{"c", "a", "a"},
		Namespace:    NamespaceSelector{MatchNames: []string{ns}},
	})
	recN.expect(t, 0, `Sync["a" "c"]`)
	byField, recF := startMonitor(t, WatchSpec{
		Name: "fields", Kind: "ConfigMap", JqFilter: ".metadata.name",
		FieldSelector: []FieldRequirement{{Field: "metadata.name", Operator: "NotEquals", Value: "b"}, {Field: "metadata.namespace", Operator: "==", Value: ns}},
	})
	recF.expect(t, 0, `Sync["a" "c"]`)

	testenv.Apply(t, cfg, configMap(ns, "d", "", `"v":"1"`))
	recF.expect(t, 1, `Added d "d"`)
	patch(t, c, "ConfigMap", ns, "b", `{"data":{"v":"2"}}`)
	patch(t, c, "ConfigMap", ns, "c", `{"data":{"v":"2"}}`) // filter result unchanged
	remove(t, c, "ConfigMap", ns, "c")
	recN.expect(t, 1, `Deleted c "c"`)
	recF.expect(t, 2, `Deleted c "c"`)
	if snapshotString(byName) != `"a"` || snapshotString(byField) != `"a" "d"` {
		t.Errorf("snapshots: names %s, fields %s", snapshotString(byName), snapshotString(byField))
	}

	if _, err := NewMonitor(c, WatchSpec{Name: "bad", Kind: "ConfigMap", NameSelector: []string{"a"},
		FieldSelector: []FieldRequirement{{Field: "metadata.name", Operator: "=", Value: "a"}}}, nil); err == nil ||
		!strings.Contains(err.Error(), `binding "bad": fieldSelector.matchExpressions[0]`) {
		t.Errorf("nameSelector with a metadata.name field selector: %v", err)
	}
	if _, err := NewMonitor(c, WatchSpec{Name: "bad", Kind: "ConfigMap",
		FieldSelector: []FieldRequirement{{Field: "x", Operator: "~", Value: "a"}}}, nil); err == nil ||
		!strings.Contains(err.Error(), `operator: unknown operator "~"`) {
		t.Errorf("bad operator: %v", err)
	}
}

func TestMonitorNamespaceNames(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns1 := testenv.Namespace(t, cfg, "mon-ns-b")
	ns2 := testenv.Namespace(t, cfg, "mon-ns-a")
	other := testenv.Namespace(t, cfg, "mon-ns-other")
	for _, ns := range []string{ns1, ns2, other} {
		testenv.Apply(t, cfg, configMap(ns, "x", `"mon-ns":"yes"`, `"v":"1"`))
	}
	m, rec := startMonitor(t, WatchSpec{
		Name: "ns", Kind: "ConfigMap", JqFilter: ".metadata.namespace",
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"mon-ns": "yes"}},
		Namespace:     NamespaceSelector{MatchNames: []string{ns1, ns2}},
	})
	rec.expect(t, 0, fmt.Sprintf(`Sync[%q %q]`, ns2, ns1)) // sorted by namespace
	testenv.Apply(t, cfg, configMap(other, "y", `"mon-ns":"yes"`, `"v":"1"`))
	testenv.Apply(t, cfg, configMap(ns1, "y", `"mon-ns":"yes"`, `"v":"1"`))
	rec.expect(t, 1, fmt.Sprintf(`Added y %q`, ns1))
	if got := snapshotString(m); got != fmt.Sprintf(`%q %q %q`, ns2, ns1, ns1) {
		t.Errorf("snapshot = %s", got)
	}
}

func TestMonitorNamespaceLabelSelector(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	c := newTestClient(t)
	label := fmt.Sprintf("mon-nslabel-%d", time.Now().UnixNano())
	nsOn := testenv.Namespace(t, cfg, "mon-nsl-on")
	nsLater := testenv.Namespace(t, cfg, "mon-nsl-later")
	patch(t, c, "Namespace", "", nsOn, fmt.Sprintf(`{"metadata":{"labels":{%q:"on"}}}`, label))
	testenv.Apply(t, cfg, configMap(nsOn, "a", "", `"v":"1"`))
	testenv.Apply(t, cfg, configMap(nsLater, "b", "", `"v":"1"`))

	m, rec := startMonitor(t, WatchSpec{
		Name: "nsl", Kind: "ConfigMap", JqFilter: `.metadata.namespace + "/" + .metadata.name`,
		Namespace: NamespaceSelector{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{label: "on"}}},
	})
	i := rec.expect(t, 0, fmt.Sprintf(`Sync["%s/a"]`, nsOn))

	// nsLater starts matching: its objects enter the binding as Added.
	patch(t, c, "Namespace", "", nsLater, fmt.Sprintf(`{"metadata":{"labels":{%q:"on"}}}`, label))
	i = rec.expect(t, i, fmt.Sprintf(`Added b "%s/b"`, nsLater))
	testenv.Apply(t, cfg, configMap(nsLater, "c", "", `"v":"1"`))
	i = rec.expect(t, i, fmt.Sprintf(`Added c "%s/c"`, nsLater))
	// nsOn stops matching: its objects leave as Deleted, and its watch stops.
	patch(t, c, "Namespace", "", nsOn, fmt.Sprintf(`{"metadata":{"labels":{%q:"off"}}}`, label))
	i = rec.expect(t, i, fmt.Sprintf(`Deleted a "%s/a"`, nsOn))
	testenv.Apply(t, cfg, configMap(nsOn, "ignored", "", `"v":"1"`))
	patch(t, c, "ConfigMap", nsLater, "b", `{"metadata":{"labels":{"touch":"1"}}}`) // unchanged filter result
	remove(t, c, "ConfigMap", nsLater, "c")
	rec.expect(t, i, fmt.Sprintf(`Deleted c "%s/c"`, nsLater))
	if got := snapshotString(m); got != fmt.Sprintf(`"%s/b"`, nsLater) {
		t.Errorf("snapshot = %s", got)
	}
}

func TestMonitorCustomResourceByKindPluralAndShortName(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	c := newTestClient(t)
	installWidgetCRD(t, c)
	ns := testenv.Namespace(t, cfg, "mon-crd")
	testenv.Apply(t, cfg, fmt.Sprintf("apiVersion: test.deckhand.io/v1\nkind: Widget\nmetadata: {name: w1, namespace: %s}\nspec: {size: 1}", ns))

	for _, kind := range []string{"Widget", "widgets", "WDG"} {
		t.Run(kind, func(t *testing.T) {
			m, rec := startMonitor(t, WatchSpec{
				Name: "widgets", Kind: kind, JqFilter: ".spec.size",
				Namespace: NamespaceSelector{MatchNames: []string{ns}},
			})
			rec.expect(t, 0, `Sync[1]`)
			if r := m.Resource(); r.GVR.Resource != "widgets" || r.Kind != "Widget" || !r.Namespaced {
				t.Errorf("resolved %+v", r)
			}
		})
	}
	m, rec := startMonitor(t, WatchSpec{Name: "w", APIVersion: "test.deckhand.io/v1", Kind: "widget", JqFilter: ".spec.size",
		Namespace: NamespaceSelector{MatchNames: []string{ns}}})
	testenv.Apply(t, cfg, fmt.Sprintf("apiVersion: test.deckhand.io/v1\nkind: Widget\nmetadata: {name: w2, namespace: %s}\nspec: {size: 2}", ns))
	rec.expect(t, 0, `Sync[1]`, `Added w2 2`)
	if snapshotString(m) != "1 2" {
		t.Errorf("snapshot = %s", snapshotString(m))
	}
}

func TestMonitorErrors(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	c := newTestClient(t)
	ns := testenv.Namespace(t, cfg, "mon-err")
	testenv.Apply(t, cfg, configMap(ns, "a", "", `"v":"x"`))

	// Unknown kind: Start fails naming the binding and the kind.
	m, err := NewMonitor(c, WatchSpec{Name: "nope", Kind: "NoSuchThing"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err == nil || !strings.Contains(err.Error(), `binding "nope": resolving kind "NoSuchThing"`) {
		t.Errorf("unknown kind: %v", err)
	}

	// A jq error on the initial list fails the binding.
	m, err = NewMonitor(c, WatchSpec{Name: "num", Kind: "ConfigMap", JqFilter: ".data.v | tonumber",
		Namespace: NamespaceSelector{MatchNames: []string{ns}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.WaitForSync(ctx); err == nil || !strings.Contains(err.Error(), `binding "num": initial list: jqFilter on `+ns+"/a") {
		t.Errorf("jq error on the initial list: %v", err)
	}

	// A jq error on an event drops that event only.
	testenv.Apply(t, cfg, configMap(ns, "a", "", `"v":"1"`))
	_, rec := startMonitor(t, WatchSpec{Name: "num2", Kind: "ConfigMap", JqFilter: ".data.v | tonumber",
		Namespace: NamespaceSelector{MatchNames: []string{ns}}})
	patch(t, c, "ConfigMap", ns, "a", `{"data":{"v":"not a number"}}`)
	patch(t, c, "ConfigMap", ns, "a", `{"data":{"v":"7"}}`)
	rec.expect(t, 0, `Sync[1]`, `Modified a 7`)
	// An object whose last state fails the filter is still reported
	// Deleted, with the filter result last kept.
	patch(t, c, "ConfigMap", ns, "a", `{"data":{"v":"NaN?"}}`)
	remove(t, c, "ConfigMap", ns, "a")
	rec.expect(t, 2, `Deleted a 7`)

	if _, err := NewMonitor(c, WatchSpec{Name: "badjq", Kind: "ConfigMap", JqFilter: ".["}, nil); err == nil || !strings.Contains(err.Error(), `binding "badjq": jqFilter`) {
		t.Errorf("bad jqFilter: %v", err)
	}
}

// TestMonitorStop proves Stop ends the monitor's goroutines: it returns only
// after every watch and the dispatcher exited, and a stopped monitor's
// context is done.
func TestMonitorStop(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "mon-stop")
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMonitor(newTestClient(t), WatchSpec{Name: "stop", Kind: "ConfigMap",
		Namespace: NamespaceSelector{MatchNames: []string{ns}, LabelSelector: &metav1.LabelSelector{}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Start(ctx) == nil {
		t.Error("second Start succeeded")
	}
	cancel() // the parent context ends the monitor too; Stop waits for it
	m.Stop()
	if m.ctx.Err() == nil {
		t.Error("monitor context still live after Stop")
	}
}
