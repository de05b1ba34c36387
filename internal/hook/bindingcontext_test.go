package hook

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	podA = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"ns1"}}`
	podB = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b","namespace":"ns1"}}`
)

func obj(object, filter string, filtered bool) ObjectAndFilterResult {
	o := ObjectAndFilterResult{Filtered: filtered}
	if object != "" {
		o.Object = json.RawMessage(object)
	}
	if filter != "" {
		o.FilterResult = json.RawMessage(filter)
	}
	return o
}

func TestMarshalContextsV1Golden(t *testing.T) {
	pods := KubernetesBinding{Name: "pods", Watch: WatchSpec{JqFilter: ".metadata.name"}, IncludeSnapshotsFrom: []string{"pods", "cms"}}
	plain := KubernetesBinding{Name: "cms"}
	grouped := KubernetesBinding{Name: "g", Group: "main-group", IncludeSnapshotsFrom: []string{"cms"}}
	emptyFilter := obj(podB, "", true)

	cases := []struct {
		name string
		ctx  BindingContext
		want string
	}{
		{"onStartup", OnStartupContext(), `{"binding":"onStartup"}`},
		{"schedule", ScheduleBinding{Name: "every-min"}.Context(), `{"binding":"every-min","type":"Schedule"}`},
		{"schedule with snapshots, none read",
			ScheduleBinding{Name: "s", IncludeSnapshotsFrom: []string{"pods", "cms"}}.Context(),
			`{"binding":"s","snapshots":{"cms":[],"pods":[]},"type":"Schedule"}`},
		{"synchronization empty", plain.SynchronizationContext("m1"),
			`{"binding":"cms","objects":[],"type":"Synchronization"}`},
		{"synchronization objects", func() BindingContext {
			bc := pods.SynchronizationContext("m1")
			bc.Objects = []ObjectAndFilterResult{obj(podA, `"a"`, true), emptyFilter}
			bc.Snapshots = map[string][]ObjectAndFilterResult{"pods": bc.Objects}
			return bc
		}(),
			`{"binding":"pods","objects":[{"filterResult":"a","object":` + podA + `},{"filterResult":null,"object":` + podB + `}],` +
				`"snapshots":{"cms":[],"pods":[{"filterResult":"a","object":` + podA + `},{"filterResult":null,"object":` + podB + `}]},"type":"Synchronization"}`},
		{"event with filter", pods.EventContext(WatchEventAdded, &ObjectAndFilterResult{Object: json.RawMessage(podA), FilterResult: json.RawMessage(`{"x":[1,2]}`), Filtered: true}),
			`{"binding":"pods","filterResult":{"x":[1,2]},"object":` + podA + `,"snapshots":{"cms":[],"pods":[]},"type":"Event","watchEvent":"Added"}`},
		{"event filter empty string result", pods.EventContext(WatchEventModified, &ObjectAndFilterResult{Object: json.RawMessage(podA), FilterResult: json.RawMessage(`""`), Filtered: true}),
			`{"binding":"pods","filterResult":"","object":` + podA + `,"snapshots":{"cms":[],"pods":[]},"type":"Event","watchEvent":"Modified"}`},
		{"event filter no output", pods.EventContext(WatchEventModified, &emptyFilter),
			`{"binding":"pods","filterResult":null,"object":` + podB + `,"snapshots":{"cms":[],"pods":[]},"type":"Event","watchEvent":"Modified"}`},
		{"event no filter", plain.EventContext(WatchEventDeleted, &ObjectAndFilterResult{Object: json.RawMessage(podA)}),
			`{"binding":"cms","object":` + podA + `,"type":"Event","watchEvent":"Deleted"}`},
		{"event without object, filter", pods.EventContext(WatchEventDeleted, nil),
			`{"binding":"pods","filterResult":"","object":null,"snapshots":{"cms":[],"pods":[]},"type":"Event","watchEvent":"Deleted"}`},
		{"event without object, no filter", plain.EventContext(WatchEventDeleted, nil),
			`{"binding":"cms","object":null,"type":"Event","watchEvent":"Deleted"}`},
		{"event keepFullObjectsInMemory false", pods.EventContext(WatchEventAdded, &ObjectAndFilterResult{FilterResult: json.RawMessage(`"a"`), Filtered: true}),
			`{"binding":"pods","filterResult":"a","snapshots":{"cms":[],"pods":[]},"type":"Event","watchEvent":"Added"}`},
		{"group event", grouped.EventContext(WatchEventAdded, &ObjectAndFilterResult{Object: json.RawMessage(podA)}),
			`{"binding":"g","groupName":"main-group","snapshots":{"cms":[]},"type":"Group"}`},
		{"group synchronization", grouped.SynchronizationContext("m2"),
			`{"binding":"g","groupName":"main-group","snapshots":{"cms":[]},"type":"Group"}`},
		{"lifecycle", (&Config{Kubernetes: []KubernetesBinding{plain}}).LifecycleContext(BindingBeforeHelm),
			`{"binding":"beforeHelm","snapshots":{"cms":[]}}`},
		{"lifecycle without kubernetes", (&Config{}).LifecycleContext(BindingAfterHelm),
			`{"binding":"afterHelm","snapshots":{}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalContexts(ConfigV1, []BindingContext{tc.ctx})
			if err != nil {
				t.Fatal(err)
			}
			if want := "[" + tc.want + "]\n"; string(got) != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON")
			}
		})
	}
}

func TestMarshalContextsV0Golden(t *testing.T) {
	b := KubernetesBinding{Name: "onKubernetesEvent"}
	list := []BindingContext{
		OnStartupContext(),
		ScheduleBinding{Name: "schedule"}.Context(),
		b.EventContext(WatchEventAdded, &ObjectAndFilterResult{Object: json.RawMessage(podA)}),
		b.EventContext(WatchEventModified, &ObjectAndFilterResult{Object: json.RawMessage(`{"kind":"Namespace","metadata":{"name":"x"}}`)}),
		b.EventContext(WatchEventDeleted, nil),
	}
	got, err := MarshalContexts(ConfigV0, list)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"binding":"onStartup"},{"binding":"schedule"},` +
		`{"binding":"onKubernetesEvent","resourceEvent":"add","resourceKind":"Pod","resourceName":"a","resourceNamespace":"ns1"},` +
		`{"binding":"onKubernetesEvent","resourceEvent":"update","resourceKind":"Namespace","resourceName":"x","resourceNamespace":""},` +
		`{"binding":"onKubernetesEvent","resourceEvent":"delete"}]` + "\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMarshalContextsErrors(t *testing.T) {
	bad := KubernetesBinding{Name: "pods"}.EventContext(WatchEventAdded, &ObjectAndFilterResult{Object: json.RawMessage(`{"a":`), ResourceID: "ns/Pod/a"})
	if _, err := MarshalContexts(ConfigV1, []BindingContext{bad}); err == nil || !strings.Contains(err.Error(), `binding "pods"`) || !strings.Contains(err.Error(), "ns/Pod/a") {
		t.Errorf("invalid object JSON: %v", err)
	}
	if _, err := MarshalContexts("v2", []BindingContext{OnStartupContext()}); err == nil {
		t.Error("unknown version accepted")
	}
	got, err := MarshalContexts(ConfigV1, nil)
	if err != nil || string(got) != "[]\n" {
		t.Errorf("empty list: %q %v", got, err)
	}
}

// Objects are copied as they are (no HTML escaping of "<", ">", "&"), while
// strings the runtime writes are escaped as encoding/json does.
func TestMarshalContextsKeepsObjectText(t *testing.T) {
	o := &ObjectAndFilterResult{Object: json.RawMessage(`{"data":{"html":"<a href=\"x\">&</a>"}}`), FilterResult: json.RawMessage(`"<b>"`), Filtered: true}
	got, err := MarshalContexts(ConfigV1, []BindingContext{KubernetesBinding{Name: "a<b"}.EventContext(WatchEventAdded, o)})
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"binding":"a\u003cb","filterResult":"<b>","object":{"data":{"html":"<a href=\"x\">&</a>"}},"type":"Event","watchEvent":"Added"}]` + "\n"
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
