package kube

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func TestPatcherCreateOperations(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	ns := testenv.Namespace(t, testenv.ControlPlane(t).Config, "patch-create")
	p := NewPatcher(c)

	apply := func(text string) error { return p.Apply(ctx, mustParse(t, text)) }
	data := func(name string) map[string]string {
		obj := getObject(t, c, "v1", "ConfigMap", ns, name)
		if obj == nil {
			return nil
		}
		m, _, _ := unstructured.NestedStringMap(obj.Object, "data")
		return m
	}

	if err := apply(fmt.Sprintf(`
operation: Create
object: {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: %s}, data: {v: "1"}}
---
operation: Create
namespace: %s
object: |
  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "data": {"v": "1"}}
`, ns, ns)); err != nil {
		t.Fatal(err)
	}
	if data("a")["v"] != "1" || data("b")["v"] != "1" {
		t.Fatalf("created: a=%v b=%v", data("a"), data("b"))
	}

	err := apply(fmt.Sprintf("operation: Create\nobject: {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: %s}}", ns))
	if err == nil || !strings.Contains(err.Error(), "operation #1 Create ConfigMap "+ns+"/a") || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Create of an existing object: got %v", err)
	}

	if err := apply(fmt.Sprintf(`
operation: CreateIfNotExists
object: {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: %s}, data: {v: "2"}}
`, ns)); err != nil {
		t.Fatal(err)
	}
	if data("a")["v"] != "1" {
		t.Fatalf("CreateIfNotExists changed an existing object: %v", data("a"))
	}

	if err := apply(fmt.Sprintf(`
operation: CreateOrUpdate
object: {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: %[1]s}, data: {v: "3"}}
---
operation: CreateOrUpdate
object: {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: %[1]s}, data: {v: "3"}}
`, ns)); err != nil {
		t.Fatal(err)
	}
	if data("a")["v"] != "3" || data("c")["v"] != "3" {
		t.Fatalf("CreateOrUpdate: a=%v c=%v", data("a"), data("c"))
	}
}

func TestPatcherPatchOperations(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "patch-patch")
	testenv.Apply(t, cfg, fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":%q},"data":{"a":"1","b":"2"}}`, ns))
	p := NewPatcher(c)

	err := p.Apply(ctx, mustParse(t, fmt.Sprintf(`
operation: MergePatch
kind: ConfigMap
namespace: %[1]s
name: cm
mergePatch: {data: {a: "10", m: "merge"}}
---
operation: MergePatch
kind: configmaps
namespace: %[1]s
name: cm
mergePatch: '{"metadata":{"labels":{"from":"string-form"}}}'
---
operation: JSONPatch
apiVersion: v1
kind: cm
namespace: %[1]s
name: cm
jsonPatch: [{op: remove, path: /data/b}, {op: add, path: /data/j, value: json}]
---
operation: JQPatch
kind: ConfigMap
namespace: %[1]s
name: cm
jqFilter: '.data.q = (.data.a + "-jq")'
---
operation: MergePatch
kind: ConfigMap
namespace: %[1]s
name: missing
ignoreMissingObject: true
mergePatch: {data: {x: "1"}}
---
operation: JQPatch
kind: ConfigMap
namespace: %[1]s
name: missing
ignoreMissingObject: true
jqFilter: .
`, ns)))
	if err != nil {
		t.Fatal(err)
	}
	obj := getObject(t, c, "v1", "ConfigMap", ns, "cm")
	got, _, _ := unstructured.NestedStringMap(obj.Object, "data")
	want := map[string]string{"a": "10", "m": "merge", "j": "json", "q": "10-jq"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("data = %v, want %v", got, want)
	}
	if obj.GetLabels()["from"] != "string-form" {
		t.Errorf("labels = %v", obj.GetLabels())
	}

	// A JQPatch that changes nothing does not write.
	rv := obj.GetResourceVersion()
	if err := p.Apply(ctx, mustParse(t, fmt.Sprintf("operation: JQPatch\nkind: ConfigMap\nnamespace: %s\nname: cm\njqFilter: .", ns))); err != nil {
		t.Fatal(err)
	}
	if now := getObject(t, c, "v1", "ConfigMap", ns, "cm").GetResourceVersion(); now != rv {
		t.Errorf("no-op JQPatch wrote the object: resourceVersion %s -> %s", rv, now)
	}

	// Without ignoreMissingObject a missing object is an error naming the
	// operation; the operations after it still run (shell-operator semantics).
	err = p.Apply(ctx, mustParse(t, fmt.Sprintf(`
operation: MergePatch
kind: ConfigMap
namespace: %[1]s
name: missing
mergePatch: {data: {x: "1"}}
---
operation: MergePatch
kind: ConfigMap
namespace: %[1]s
name: cm
mergePatch: {data: {after: "yes"}}
`, ns)))
	if err == nil || !strings.Contains(err.Error(), "operation #1 MergePatch ConfigMap "+ns+"/missing") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("patch of a missing object: got %v", err)
	}
	if d, _, _ := unstructured.NestedString(getObject(t, c, "v1", "ConfigMap", ns, "cm").Object, "data", "after"); d != "yes" {
		t.Errorf("operation after a failed one was not applied")
	}
}

func TestPatcherStatusSubresource(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	installWidgetCRD(t, c)
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "patch-status")
	testenv.Apply(t, cfg, fmt.Sprintf("apiVersion: test.deckhand.io/v1\nkind: Widget\nmetadata: {name: w, namespace: %s}\nspec: {size: 1}", ns))
	p := NewPatcher(c)

	ops := mustParse(t, fmt.Sprintf(`
operation: MergePatch
kind: Widget
namespace: %[1]s
name: w
mergePatch: {status: {ignored: "main resource drops status"}}
---
operation: MergePatch
kind: widgets
namespace: %[1]s
name: w
subresource: status
ignoreHookError: true
mergePatch: {status: {phase: Merged}}
---
operation: JSONPatch
kind: wdg
namespace: %[1]s
name: w
subresource: status
jsonPatch: [{op: add, path: /status/json, value: "yes"}]
---
operation: JQPatch
apiVersion: test.deckhand.io/v1
kind: Widget
namespace: %[1]s
name: w
subresource: status
jqFilter: '.status.jq = .spec.size'
`, ns))
	if err := p.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	obj := getObject(t, c, "test.deckhand.io/v1", "Widget", ns, "w")
	status, _, _ := unstructured.NestedMap(obj.Object, "status")
	if fmt.Sprint(status) != "map[jq:1 json:yes phase:Merged]" {
		t.Errorf("status = %v", status)
	}
	if onErr := OperationsOnHookError(ops); len(onErr) != 1 || onErr[0].Index != 2 {
		t.Errorf("OperationsOnHookError = %v", onErr)
	}
}

func TestPatcherDeleteOperations(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "patch-delete")
	for _, name := range []string{"fg", "bg", "orphan"} {
		testenv.Apply(t, cfg, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}", name, ns))
	}
	p := NewPatcher(c, WithDeleteWait(30*time.Second))

	// The test control plane runs no garbage collector, so foreground and
	// orphan deletes would keep their foregroundDeletion/orphan finalizers
	// forever. Play the collector: drop the finalizers once an object is
	// marked for deletion, which also proves Delete waits for it to be gone.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		r, _ := c.Resolve("v1", "ConfigMap")
		rc := c.resourceClient(r, ns)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			for _, name := range []string{"fg", "orphan"} {
				obj, err := rc.Get(ctx, name, metav1.GetOptions{})
				if err == nil && obj.GetDeletionTimestamp() != nil {
					_, _ = rc.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
				}
			}
		}
	}()

	err := p.Apply(ctx, mustParse(t, fmt.Sprintf(`
{"operation":"Delete","kind":"ConfigMap","namespace":%[1]q,"name":"fg"}
{"operation":"DeleteInBackground","kind":"ConfigMap","namespace":%[1]q,"name":"bg"}
{"operation":"DeleteNonCascading","kind":"ConfigMap","namespace":%[1]q,"name":"orphan"}
{"operation":"DeleteInBackground","kind":"ConfigMap","namespace":%[1]q,"name":"never-existed"}
`, ns)))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fg", "bg", "orphan"} {
		testenv.WaitFor(t, 10*time.Second, name+" deleted", func() (bool, string) {
			return getObject(t, c, "v1", "ConfigMap", ns, name) == nil, "still present"
		})
	}
}

func TestPatcherNothingAppliedOnBadInput(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	ns := testenv.Namespace(t, testenv.ControlPlane(t).Config, "patch-bad")
	p := NewPatcher(c)

	// A malformed document: parsing fails, naming it; nothing to apply.
	file := fmt.Sprintf(`
operation: Create
object: {apiVersion: v1, kind: ConfigMap, metadata: {name: first, namespace: %[1]s}}
---
operation: JSONPatch
kind: ConfigMap
namespace: %[1]s
name: first
jsonPatch: [{op: add, value: 1}]
`, ns)
	ops, err := ParseOperations([]byte(file))
	if err == nil || !strings.Contains(err.Error(), "operation #2: field jsonPatch") {
		t.Fatalf("got %v, %v", ops, err)
	}

	// A well-formed file naming an unknown kind: Apply resolves every kind
	// first, so the Create before it is not applied either.
	err = p.Apply(ctx, mustParse(t, fmt.Sprintf(`
operation: Create
object: {apiVersion: v1, kind: ConfigMap, metadata: {name: first, namespace: %[1]s}}
---
operation: Delete
kind: NoSuchKind
namespace: %[1]s
name: x
`, ns)))
	if err == nil || !strings.Contains(err.Error(), `operation #2 Delete NoSuchKind`) || !strings.Contains(err.Error(), `resolving kind "NoSuchKind"`) {
		t.Fatalf("unknown kind: got %v", err)
	}
	if getObject(t, c, "v1", "ConfigMap", ns, "first") != nil {
		t.Fatal("the Create before the bad operation was applied")
	}

	// A namespaced kind without a namespace is refused the same way.
	err = p.Apply(ctx, mustParse(t, fmt.Sprintf(`
operation: Create
object: {apiVersion: v1, kind: ConfigMap, metadata: {name: first, namespace: %[1]s}}
---
operation: Delete
kind: ConfigMap
name: first
`, ns)))
	if err == nil || !strings.Contains(err.Error(), "operation #2 Delete ConfigMap first: namespace is required for namespaced kind ConfigMap") {
		t.Fatalf("missing namespace: got %v", err)
	}
	if getObject(t, c, "v1", "ConfigMap", ns, "first") != nil {
		t.Fatal("the Create before the operation without namespace was applied")
	}
}
