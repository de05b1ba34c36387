package hook

import (
	"encoding/json"
	"reflect"
	"testing"
)

func bindings(ctxs []BindingContext) []string {
	var out []string
	for _, c := range ctxs {
		out = append(out, c.Binding+"/"+string(c.Type)+"/"+c.Group)
	}
	return out
}

func TestCombineAndCompact(t *testing.T) {
	g := KubernetesBinding{Name: "g1", Group: "grp"}
	g2 := KubernetesBinding{Name: "g2", Group: "grp"}
	plain := KubernetesBinding{Name: "p"}
	sch := ScheduleBinding{Name: "s", Group: "grp"}

	a := []BindingContext{g.EventContext(WatchEventAdded, nil)}
	b := []BindingContext{g2.EventContext(WatchEventModified, nil), plain.EventContext(WatchEventAdded, nil)}
	c := []BindingContext{g.EventContext(WatchEventDeleted, nil), sch.Context()}

	got := Combine(a, b, c)
	want := []string{"g2/Event/grp", "p/Event/", "s/Schedule/grp"}
	if !reflect.DeepEqual(bindings(got), want) {
		t.Errorf("Combine = %v, want %v", bindings(got), want)
	}
	// Pairwise combining, as a queue does it, gives the same result.
	if pair := Combine(Combine(a, b), c); !reflect.DeepEqual(bindings(pair), want) {
		t.Errorf("pairwise = %v", bindings(pair))
	}
	// Non-grouped contexts are never dropped.
	p := []BindingContext{plain.EventContext(WatchEventAdded, nil), plain.EventContext(WatchEventModified, nil)}
	if got := Compact(p); len(got) != 2 {
		t.Errorf("Compact dropped ungrouped contexts: %v", bindings(got))
	}
	if len(a) != 1 || len(b) != 2 {
		t.Error("inputs modified")
	}
}

func TestCanStartCombine(t *testing.T) {
	plain := KubernetesBinding{Name: "p"}
	grouped := KubernetesBinding{Name: "g", Group: "grp"}
	cases := []struct {
		version string
		head    BindingContext
		want    bool
	}{
		{ConfigV1, plain.EventContext(WatchEventAdded, nil), true},
		{ConfigV1, plain.SynchronizationContext("m"), false},
		{ConfigV1, grouped.SynchronizationContext("m"), true},
		{ConfigV1, ScheduleBinding{Name: "s"}.Context(), true},
		{ConfigV0, plain.EventContext(WatchEventAdded, nil), false},
	}
	for i, tc := range cases {
		if got := CanStartCombine(tc.version, tc.head); got != tc.want {
			t.Errorf("case %d: CanStartCombine = %v", i, got)
		}
	}
}

func TestRefreshSnapshots(t *testing.T) {
	cfg, err := ParseConfig("hooks/x", []byte(`
configVersion: v1
kubernetes:
- {name: pods, kind: Pod, includeSnapshotsFrom: [pods, cms]}
- {name: cms, kind: ConfigMap, jqFilter: .data}
schedule:
- {crontab: "* * * * *", includeSnapshotsFrom: [cms]}
`), KindShell)
	if err != nil {
		t.Fatal(err)
	}
	pods, cms := cfg.Kubernetes[0], cfg.Kubernetes[1]
	reads := map[string]int{}
	read := func(name string) []ObjectAndFilterResult {
		reads[name]++
		if name == "pods" {
			return []ObjectAndFilterResult{{Object: json.RawMessage(podA)}}
		}
		return nil
	}
	in := []BindingContext{
		pods.SynchronizationContext("m1"),
		pods.EventContext(WatchEventAdded, &ObjectAndFilterResult{Object: json.RawMessage(podB)}),
		cms.SynchronizationContext("m2"),
		cfg.Schedules[0].Context(),
	}
	out := RefreshSnapshots(in, read)
	if reads["pods"] != 1 || reads["cms"] != 1 {
		t.Errorf("each binding must be read once: %v", reads)
	}
	if in[0].Objects != nil {
		t.Error("input modified")
	}
	data, err := MarshalContexts(ConfigV1, out)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"binding":"pods","objects":[{"object":` + podA + `}],"snapshots":{"cms":[],"pods":[{"object":` + podA + `}]},"type":"Synchronization"},` +
		`{"binding":"pods","object":` + podB + `,"snapshots":{"cms":[],"pods":[{"object":` + podA + `}]},"type":"Event","watchEvent":"Added"},` +
		`{"binding":"cms","objects":[],"type":"Synchronization"},` +
		`{"binding":"schedule","snapshots":{"cms":[]},"type":"Schedule"}]` + "\n"
	if string(data) != want {
		t.Errorf("got\n%s\nwant\n%s", data, want)
	}
}
