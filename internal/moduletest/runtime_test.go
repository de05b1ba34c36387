package moduletest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestSameContextsAsOnARealAPIServer builds the binding contexts of a hook
// twice: from a case's objects on the in-process test cluster, and from the
// same objects on a real kube-apiserver with the runtime's monitors. The JSON
// the hook reads must be the same: namespace label selectors (dynamic
// namespaces), static namespaces, name and field selectors, label
// expressions, short kind names, jq filters and snapshot order included.
func TestSameContextsAsOnARealAPIServer(t *testing.T) {
	cp := testenv.ControlPlane(t)
	nsA := testenv.Namespace(t, cp.Config, "mt-a")
	nsB := testenv.Namespace(t, cp.Config, "mt-b")
	objects := strings.NewReplacer("NSA", nsA, "NSB", nsB).Replace(`
apiVersion: v1
kind: Namespace
metadata: {name: NSA, labels: {team: NSA}}
---
apiVersion: v1
kind: Namespace
metadata: {name: NSB, labels: {team: other}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x3, namespace: NSA, labels: {app: web}}
data: {k: "3"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x1, namespace: NSA, labels: {app: api}}
data: {k: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x2, namespace: NSA, labels: {app: db}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x1, namespace: NSB, labels: {app: web}}
`)
	config := strings.NewReplacer("NSA", nsA, "NSB", nsB).Replace(`
configVersion: v1
kubernetes:
  - name: cms
    kind: ConfigMap
    namespace: {labelSelector: {matchLabels: {team: NSA}}}
    labelSelector: {matchExpressions: [{key: app, operator: In, values: [web, api]}]}
    keepFullObjectsInMemory: false
    jqFilter: '{name: .metadata.name, ns: .metadata.namespace, data: .data}'
    includeSnapshotsFrom: [cms, named]
  - name: named
    kind: cm
    nameSelector: {matchNames: [x1, x3]}
    namespace: {nameSelector: {matchNames: [NSA, NSB]}}
    fieldSelector: {matchExpressions: [{field: metadata.namespace, operator: NotEquals, value: NSB}]}
    keepFullObjectsInMemory: false
    jqFilter: '.metadata.name'
    executeHookOnSynchronization: false
`)
	cfg, err := hook.ParseConfig("hooks/x.sh", []byte(config), hook.KindModule)
	if err != nil {
		t.Fatal(err)
	}
	h := &hook.Hook{Name: "x.sh", Config: cfg}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// In-process: the objects of a test case.
	local := caseContexts(ctx, t, h, "tests/x.yaml", "hook: x.sh\nbinding: cms\n"+caseObjects(t, objects))

	// Real: the same objects on kube-apiserver, read by the runtime's monitors.
	client := applyObjects(t, cp.Config, objects)
	mons := &monitors{ctx: ctx, client: client, byName: map[string]*kube.Monitor{}}
	defer mons.stop()
	kb, _ := cfg.Binding("cms")
	var readErr error
	real := hook.RefreshSnapshots([]hook.BindingContext{kb.SynchronizationContext("real")}, func(name string) []hook.ObjectAndFilterResult {
		b, _ := cfg.Binding(name)
		m, err := mons.start(b)
		if err != nil {
			readErr = err
			return nil
		}
		return hookObjects(b, m.Snapshot())
	})
	if readErr != nil {
		t.Fatal(readErr)
	}

	want, err := hook.MarshalContexts(cfg.Version, real)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hook.MarshalContexts(cfg.Version, local)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("binding context differs from the real API server's:\n test: %s\n real: %s", got, want)
	}
	// Guard against two empty answers agreeing.
	if !strings.Contains(string(got), `"name":"x3"`) || !strings.Contains(string(got), `"filterResult":"x1"`) ||
		strings.Contains(string(got), `"x2"`) || strings.Contains(string(got), `"ns":"`+nsB) {
		t.Fatalf("unexpected selection: %s", got)
	}
}

// TestSameEventContextAsOnARealAPIServer replays a Modified event on the
// in-process cluster and makes the same change on kube-apiserver, where the
// runtime's monitor delivers it: the event context (object at event time,
// fresh snapshot) must be the same JSON.
func TestSameEventContextAsOnARealAPIServer(t *testing.T) {
	cp := testenv.ControlPlane(t)
	ns := testenv.Namespace(t, cp.Config, "mt-ev")
	r := strings.NewReplacer("NS", ns)
	objects := r.Replace(`
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: NS, labels: {app: web}}
data: {k: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: NS, labels: {app: web}}
data: {k: "2"}
`)
	changed := r.Replace(`{apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: NS, labels: {app: web}}, data: {k: "9"}}`)
	cfg, err := hook.ParseConfig("hooks/x.sh", []byte(r.Replace(`
configVersion: v1
kubernetes:
  - name: cms
    kind: ConfigMap
    namespace: {nameSelector: {matchNames: [NS]}}
    labelSelector: {matchLabels: {app: web}}
    keepFullObjectsInMemory: false
    jqFilter: '{name: .metadata.name, k: .data.k}'
    includeSnapshotsFrom: [cms]
`)), hook.KindModule)
	if err != nil {
		t.Fatal(err)
	}
	h := &hook.Hook{Name: "x.sh", Config: cfg}
	kb, _ := cfg.Binding("cms")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	local := caseContexts(ctx, t, h, "tests/ev.yaml", "hook: x.sh\nevent: Modified\nobject: "+changed+"\n"+caseObjects(t, objects))

	client := applyObjects(t, cp.Config, objects)
	events := make(chan kube.Event, 8)
	mon, err := kube.NewMonitor(client, watchSpec(kb), func(ev kube.Event) {
		if ev.Type == kube.EventWatch {
			events <- ev
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer mon.Stop()
	if err := mon.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	testenv.Apply(t, cp.Config, changed)
	var ev kube.Event
	select {
	case ev = <-events:
	case <-ctx.Done():
		t.Fatal("no event from the real API server")
	}
	obj := hookObject(kb, ev.Objects[0])
	real := hook.RefreshSnapshots([]hook.BindingContext{kb.EventContext(hook.WatchEvent(ev.WatchEvent), &obj)}, func(string) []hook.ObjectAndFilterResult {
		return hookObjects(kb, mon.Snapshot())
	})

	want, err := hook.MarshalContexts(cfg.Version, real)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hook.MarshalContexts(cfg.Version, local)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("event context differs from the real API server's:\n test: %s\n real: %s", got, want)
	}
	if !strings.Contains(string(got), `"watchEvent":"Modified"`) || !strings.Contains(string(got), `{"filterResult":{"k":"9","name":"b"}}`) {
		t.Fatalf("unexpected context: %s", got)
	}
}

// caseObjects turns a multi-document YAML stream into a test case's
// "objects:" list, one item a document.
func caseObjects(t *testing.T, objects string) string {
	t.Helper()
	var list strings.Builder
	list.WriteString("objects:\n")
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(objects)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return list.String()
		}
		if err != nil {
			t.Fatalf("objects: %v", err)
		}
		if doc = bytes.TrimSpace(doc); len(doc) > 0 {
			list.WriteString("  - " + strings.ReplaceAll(string(doc), "\n", "\n    ") + "\n")
		}
	}
}

// caseContexts builds in-process the binding contexts of the test case text
// (named file in errors) for h, as a module test run does.
func caseContexts(ctx context.Context, t *testing.T, h *hook.Hook, file, text string) []hook.BindingContext {
	t.Helper()
	c, err := ParseCase(file, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	contexts, err := buildContexts(ctx, h, c)
	if err != nil {
		t.Fatal(err)
	}
	return contexts
}

// applyObjects applies the objects on the real kube-apiserver and returns the
// runtime's client to read them.
func applyObjects(t *testing.T, cfg *rest.Config, objects string) *kube.Client {
	t.Helper()
	testenv.Apply(t, cfg, objects)
	client, err := kube.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}
