package hookserver

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func clientset(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(testenv.ControlPlane(t).Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// serveHook serves one hook, name under a fresh hooks directory, whose runs
// append their binding contexts to record, and waits until the server is
// ready.
func serveHook(t *testing.T, name, record, config string, opts ...serverOpt) *testServer {
	t.Helper()
	dir := t.TempDir()
	writeHook(t, dir, name, config, recordBody(record))
	ts := startServer(t, dir, opts...)
	ts.waitReady(t)
	return ts
}

func TestKubernetesSynchronizationAndEvents(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "kube-events")
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: one, namespace: `+ns+`, labels: {app: watched}}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored, namespace: `+ns+`}
data: {x: "no label"}
`)
	ts := serveHook(t, "watch/cms.sh", "cms", `
configVersion: v1
kubernetes:
- name: cms
  apiVersion: v1
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  labelSelector: {matchLabels: {app: watched}}
  jqFilter: .data
`)
	want := `[{"binding":"cms","type":"Synchronization","objects":[{"object":"` + ns + `/one","filterResult":{"a":"1"}}]}`
	ts.waitContexts(t, "cms", "Synchronization", want+`]`)

	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: two, namespace: `+ns+`, labels: {app: watched}}
data: {b: "2"}
`)
	want += `,{"binding":"cms","type":"Event","watchEvent":"Added","object":"` + ns + `/two","filterResult":{"b":"2"}}`
	ts.waitContexts(t, "cms", "Added", want+`]`)

	// A change outside the jq filter's output is no event; a change in it is Modified.
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: two, namespace: `+ns+`, labels: {app: watched}, annotations: {note: unrelated}}
data: {b: "2"}
`)
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: two, namespace: `+ns+`, labels: {app: watched}, annotations: {note: unrelated}}
data: {b: "3"}
`)
	want += `,{"binding":"cms","type":"Event","watchEvent":"Modified","object":"` + ns + `/two","filterResult":{"b":"3"}}`
	ts.waitContexts(t, "cms", "Modified", want+`]`)

	if err := clientset(t).CoreV1().ConfigMaps(ns).Delete(context.Background(), "two", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want += `,{"binding":"cms","type":"Event","watchEvent":"Deleted","object":"` + ns + `/two","filterResult":{"b":"3"}}`
	ts.waitContexts(t, "cms", "Deleted", want+`]`)

	// The debug endpoint shows the snapshot the hook would get now.
	code, body := ts.get(t, "/debug/snapshots/watch/cms.sh")
	if code != http.StatusOK {
		t.Fatalf("/debug/snapshots = %d %s", code, body)
	}
	var snaps HookSnapshots
	if err := json.Unmarshal([]byte(body), &snaps); err != nil {
		t.Fatal(err)
	}
	got := snaps.Snapshots["cms"]
	if len(got) != 1 {
		t.Fatalf("snapshot = %s", body)
	}
	if ok, fr := jsonEqual(t, got[0].FilterResult, `{"a":"1"}`); !ok {
		t.Fatalf("snapshot filterResult = %s", fr)
	}
	var obj map[string]any
	if err := json.Unmarshal(got[0].Object, &obj); err != nil || normalize(map[string]any{"object": obj}).(map[string]any)["object"] != ns+"/one" {
		t.Fatalf("snapshot object = %s", got[0].Object)
	}
	if code, body := ts.get(t, "/debug/snapshots/nope.sh"); code != http.StatusNotFound || !strings.Contains(body, "watch/cms.sh") {
		t.Fatalf("unknown hook: %d %s", code, body)
	}
	_, metrics := ts.get(t, "/metrics")
	for _, w := range []string{
		`deckhand_events_received_total{binding="cms",hook="watch/cms.sh",type="Added"} 1`,
		`deckhand_events_received_total{binding="cms",hook="watch/cms.sh",type="Deleted"} 1`,
		`deckhand_tasks_queue_length{queue="main"} `,
		`deckhand_kube_snapshot_objects{binding="cms",hook="watch/cms.sh"} 1`,
		`deckhand_hook_run_max_rss_bytes{binding="cms",hook="watch/cms.sh",queue="main"} `,
	} {
		if !strings.Contains(metrics, w) {
			t.Errorf("/metrics lacks %s\n%s", w, metrics)
		}
	}
}

func TestGroupAndIncludeSnapshots(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "group")
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: cm1, namespace: `+ns+`}
data: {k: v}
`)
	ts := serveHook(t, "group.sh", "group", `
configVersion: v1
kubernetes:
- name: configmaps
  kind: cm
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  jqFilter: .metadata.name
  group: pair
  keepFullObjectsInMemory: false
- name: secrets
  kind: Secret
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  jqFilter: '{name: .metadata.name, type: .type}'
  group: pair
  keepFullObjectsInMemory: false
- name: snapshot-only
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  jqFilter: .data
  executeHookOnEvent: []
  executeHookOnSynchronization: false
  keepFullObjectsInMemory: false
schedule:
- name: yearly
  crontab: "0 0 1 1 *"
  includeSnapshotsFrom: [snapshot-only]
`)
	// Both grouped Synchronizations are one run; the first context is
	// compacted away because the next one has the same group.
	ts.waitContexts(t, "group", "grouped Synchronization",
		`[{"binding":"secrets","type":"Group","groupName":"pair","snapshots":{"configmaps":[{"filterResult":"cm1"}],"secrets":[]}}]`)
	if runs := ts.runs(t, "group"); len(runs) != 1 {
		t.Fatalf("runs = %d, want 1 combined run", len(runs))
	}
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: Secret
metadata: {name: s1, namespace: `+ns+`}
type: Opaque
stringData: {a: b}
`)
	ts.waitContexts(t, "group", "Group context for a secret event",
		`[{"binding":"secrets","type":"Group","groupName":"pair","snapshots":{"configmaps":[{"filterResult":"cm1"}],"secrets":[]}},
		  {"binding":"secrets","type":"Group","groupName":"pair","snapshots":{"configmaps":[{"filterResult":"cm1"}],"secrets":[{"filterResult":{"name":"s1","type":"Opaque"}}]}}]`)
}

// A schedule binding gets the snapshots of a snapshot-only kubernetes
// binding, which itself never runs the hook.
func TestScheduleWithIncludeSnapshotsFrom(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "sched-snap")
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: cm1, namespace: `+ns+`}
`)
	ts := serveHook(t, "report.sh", "report", `
configVersion: v1
kubernetes:
- name: cms
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  jqFilter: .metadata.name
  executeHookOnEvent: []
  executeHookOnSynchronization: false
schedule:
- name: tick
  crontab: "* * * * * *"
  includeSnapshotsFrom: [cms]
`)
	testenv.WaitFor(t, 30*time.Second, "a schedule run", func() (bool, string) {
		return len(ts.contexts(t, "report")) > 0, ""
	})
	first := ts.contexts(t, "report")[0]
	if ok, got := jsonEqual(t, first, `{"binding":"tick","type":"Schedule","snapshots":{"cms":[{"object":"`+ns+`/cm1","filterResult":"cm1"}]}}`); !ok {
		t.Fatalf("first context = %s", got)
	}
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: cm2, namespace: `+ns+`}
`)
	testenv.WaitFor(t, 30*time.Second, "a schedule run seeing cm2", func() (bool, string) {
		ctxs := ts.contexts(t, "report")
		return jsonEqual(t, ctxs[len(ctxs)-1], `{"binding":"tick","type":"Schedule","snapshots":{"cms":[
			{"object":"`+ns+`/cm1","filterResult":"cm1"},{"object":"`+ns+`/cm2","filterResult":"cm2"}]}}`)
	})
	for _, bc := range ts.contexts(t, "report") {
		if bc["binding"] != "tick" {
			t.Fatalf("snapshot-only binding ran the hook: %v", bc)
		}
	}
}

// A legacy (configVersion v0) hook gets no Synchronization and the v0
// binding context for events.
func TestLegacyV0Hook(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "legacy")
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: before-start, namespace: `+ns+`}
`)
	ts := serveHook(t, "legacy.sh", "legacy", `
onStartup: 1
onKubernetesEvent:
- kind: configmap
  event: [add, delete]
  namespaceSelector: {matchNames: [`+ns+`]}
`)
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: later, namespace: `+ns+`}
`)
	ts.waitContexts(t, "legacy", "v0 add event", `[
		{"binding":"onStartup"},
		{"binding":"onKubernetesEvent","resourceEvent":"add","resourceNamespace":"`+ns+`","resourceKind":"ConfigMap","resourceName":"later"}]`)
}

// A jqFilter importing a jq module finds it in Options.JqLibraryPath
// (hooks serve --jq-library-path / JQ_LIBRARY_PATH).
func TestJqFilterImportsFromLibraryPath(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "jq-lib")
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: one, namespace: `+ns+`}
data: {mode: fast, other: x}
`)
	lib := t.TempDir()
	if err := os.WriteFile(filepath.Join(lib, "pick.jq"), []byte("def mode: {mode: .data.mode};\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := serveHook(t, "lib.sh", "cms", `
configVersion: v1
kubernetes:
- name: cms
  apiVersion: v1
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  jqFilter: 'import "pick" as p; p::mode'
`, func(o *Options) { o.JqLibraryPath = []string{lib} })
	ts.waitContexts(t, "cms", "Synchronization with the module's filter result",
		`[{"binding":"cms","type":"Synchronization","objects":[{"object":"`+ns+`/one","filterResult":{"mode":"fast"}}]}]`)
}
