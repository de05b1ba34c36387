package kube

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestProtobufWireMatchesJSON lists objects of several built-in kinds both
// ways, over JSON into unstructured maps (what the API server returns) and
// over protobuf converted by asUnstructured (the Monitor's fast path), and
// checks that a jqFilter sees the same input: the same `.` filter result
// and the same normalized map. The objects include the cases protobuf could
// lose: empty and nil slices/maps, binaryData, int32 and int64 fields,
// booleans, resource quantities, int-or-string ports, pointers, defaulted
// pod fields, managedFields, timestamps; cluster-scoped kinds too.
func TestProtobufWireMatchesJSON(t *testing.T) {
	c, ns := wireObjects(t)
	identity, err := compileJQ(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range wireKinds {
		t.Run(kind, func(t *testing.T) {
			pbItems, jsonItems, gvk := listBothWays(t, c, ns, kind)
			for i, item := range pbItems {
				fromPB, _, err := asUnstructured(item, gvk, nil)
				if err != nil {
					t.Fatal(err)
				}
				fromJSON := &jsonItems[i]
				pbOut, err := identity.filter(fromPB.Object)
				if err != nil {
					t.Fatal(err)
				}
				jsonOut, err := identity.filter(fromJSON.Object)
				if err != nil {
					t.Fatal(err)
				}
				if string(pbOut) != string(jsonOut) {
					t.Errorf("%s %s: jq input differs\nprotobuf: %s\njson:     %s", kind, fromJSON.GetName(), pbOut, jsonOut)
				}
				if !reflect.DeepEqual(jqInput(fromPB.Object), jqInput(fromJSON.Object)) {
					t.Errorf("%s %s: normalized maps differ", kind, fromJSON.GetName())
				}
			}
		})
	}
}

// wireKinds are the kinds wireObjects covers. Cluster-scoped kinds are
// listed whole: the bootstrap ClusterRoles, system PriorityClasses and
// namespaces add objects not written here.
var wireKinds = []string{"ConfigMap", "Secret", "Service", "Deployment", "Role", "Pod", "PriorityClass", "ClusterRole", "Namespace"}

// wireObjects writes objects of several built-in kinds into a new namespace.
// They include the cases protobuf could lose: empty and nil slices/maps,
// binaryData, int32 and int64 fields, booleans, resource quantities,
// int-or-string ports, pointers, defaulted pod fields, managedFields,
// timestamps.
func wireObjects(t *testing.T) (*Client, string) {
	t.Helper()
	cfg := testenv.ControlPlane(t).Config
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, cfg, "pbwire")
	testenv.Apply(t, cfg, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: full, namespace: %[1]s, labels: {a: b}, annotations: {note: "<&>"}}
data: {k: v, empty: ""}
binaryData: {bin: AAEC}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: bare, namespace: %[1]s}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: %[1]s}
type: Opaque
stringData: {password: hunter2}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: %[1]s}
spec:
  ports: [{name: http, port: 80, targetPort: web}, {name: alt, port: 8080, targetPort: 9090, protocol: UDP}]
  selector: {app: x}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: %[1]s}
spec:
  replicas: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: c
        image: busybox
        args: []
        resources: {limits: {cpu: 500m, memory: 1Gi}}
        ports: [{containerPort: 8080}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: %[1]s}
rules: []
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: %[1]s}
spec:
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "echo <hi> & sleep 1"]
    env: [{name: A, value: "1"}, {name: B, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    resources: {requests: {cpu: "0.25", memory: 64Mi}}
    securityContext: {runAsUser: 1000, allowPrivilegeEscalation: false}
  tolerations: [{key: k, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: %[1]s-pc}
value: 1000
globalDefault: false
`, ns))
	t.Cleanup(func() {
		_ = c.Dynamic().Resource(schema.GroupVersionResource{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses"}).Delete(context.Background(), ns+"-pc", metav1.DeleteOptions{})
	})
	return c, ns
}

// listBothWays lists kind in ns over protobuf (Go types) and over JSON
// (unstructured), in the same order.
func listBothWays(t *testing.T, c *Client, ns, kind string) ([]runtime.Object, []unstructured.Unstructured, schema.GroupVersionKind) {
	t.Helper()
	res, err := c.Resolve("", kind)
	if err != nil {
		t.Fatal(err)
	}
	rc := c.protobuf.client(res)
	if rc == nil {
		t.Fatalf("%s: the protobuf path is not used against a server of the compiled-in version", kind)
	}
	ctx := context.Background()
	opts := metav1.ListOptions{}
	if kind == "Namespace" { // others' namespaces may be terminating
		opts.FieldSelector = "metadata.name=" + ns
	}
	jsonList, err := c.resourceClient(res, ns).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	lw := protobufListWatch(rc, res, ns, func(*metav1.ListOptions) {}, func(error) {})
	pbList, err := lw.ListWithContext(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	pbItems, err := meta.ExtractList(pbList)
	if err != nil {
		t.Fatal(err)
	}
	if len(pbItems) != len(jsonList.Items) || len(pbItems) == 0 {
		t.Fatalf("protobuf listed %d objects, JSON %d", len(pbItems), len(jsonList.Items))
	}
	for i, item := range pbItems {
		a, err := meta.Accessor(item)
		if err != nil {
			t.Fatal(err)
		}
		if a.GetName() != jsonList.Items[i].GetName() {
			t.Fatalf("order differs: %s vs %s", a.GetName(), jsonList.Items[i].GetName())
		}
	}
	return pbItems, jsonList.Items, res.GVR.GroupVersion().WithKind(res.Kind)
}

// TestAPITypesMinorMatchesGoMod checks apiTypesMinor against the k8s.io/api
// version go.mod requires.
func TestAPITypesMinorMatchesGoMod(t *testing.T) {
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Require {
		if r.Mod.Path == "k8s.io/api" {
			if want := fmt.Sprintf("v0.%d.", apiTypesMinor); !strings.HasPrefix(r.Mod.Version, want) {
				t.Fatalf("go.mod requires k8s.io/api %s, apiTypesMinor says %s", r.Mod.Version, want)
			}
			return
		}
	}
	t.Fatal("go.mod does not require k8s.io/api")
}
