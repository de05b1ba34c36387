package hookserver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// The classic shell-operator example: copy labelled Secrets from one
// namespace into every (matching) namespace, including ones created later,
// and delete the copies when the source goes.
func TestSecretCopier(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	cs := clientset(t)
	src := testenv.Namespace(t, cfg, "copier-src")
	id := src // unique per run
	label := func(ns string) {
		testenv.Apply(t, cfg, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {copier-test: %s}}\n", ns, id))
	}
	ns1, ns2 := testenv.Namespace(t, cfg, "copier-a"), testenv.Namespace(t, cfg, "copier-b")
	for _, ns := range []string{src, ns1, ns2} {
		label(ns)
	}
	dir := t.TempDir()
	writeHook(t, dir, "secret-copier.sh", `
configVersion: v1
kubernetes:
- name: source
  kind: Secret
  namespace: {nameSelector: {matchNames: [`+src+`]}}
  labelSelector: {matchLabels: {secret-copier: "yes"}}
  jqFilter: '{name: .metadata.name, type: .type, data: .data}'
  group: copier
  keepFullObjectsInMemory: false
- name: namespaces
  kind: Namespace
  labelSelector: {matchLabels: {copier-test: `+id+`}}
  jqFilter: .metadata.name
  group: copier
  keepFullObjectsInMemory: false
- name: copies
  kind: Secret
  labelSelector: {matchLabels: {copied-by: `+id+`}}
  jqFilter: '{namespace: .metadata.namespace, name: .metadata.name}'
  group: copier
  keepFullObjectsInMemory: false
`, `
jq -c --arg src "`+src+`" --arg id "`+id+`" '
  .[-1].snapshots as $s
  | [$s.source[].filterResult] as $secrets
  | [$s.namespaces[].filterResult | select(. != $src)] as $nss
  | ([$secrets[].name]) as $names
  | [ $nss[] as $ns | $secrets[]
      | {operation: "CreateOrUpdate",
         object: {apiVersion: "v1", kind: "Secret", type: .type, data: .data,
                  metadata: {name: .name, namespace: $ns, labels: {"copied-by": $id}}}} ]
  + [ $s.copies[].filterResult
      | select((.name as $n | $names | any(. == $n) | not) or (.namespace as $x | $nss | any(. == $x) | not))
      | {operation: "DeleteInBackground", kind: "Secret", namespace: .namespace, name: .name} ]
  | .[]' "$BINDING_CONTEXT_PATH" > "$KUBERNETES_PATCH_PATH"
`+recordBody("copier"))
	ts := startServer(t, dir)
	ts.waitReady(t)

	testenv.Apply(t, cfg, `
apiVersion: v1
kind: Secret
metadata: {name: registry-auth, namespace: `+src+`, labels: {secret-copier: "yes"}}
type: Opaque
stringData: {token: s3cret}
---
apiVersion: v1
kind: Secret
metadata: {name: not-copied, namespace: `+src+`}
stringData: {x: "y"}
`)
	copyIn := func(ns, want string) func() (bool, string) {
		return func() (bool, string) {
			s, err := cs.CoreV1().Secrets(ns).Get(context.Background(), "registry-auth", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return string(s.Data["token"]) == want && s.Labels["copied-by"] == id, fmt.Sprintf("%v %v", s.Labels, s.Data)
		}
	}
	gone := func(ns string) func() (bool, string) {
		return func() (bool, string) {
			_, err := cs.CoreV1().Secrets(ns).Get(context.Background(), "registry-auth", metav1.GetOptions{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		}
	}
	testenv.WaitFor(t, 60*time.Second, "copy in "+ns1, copyIn(ns1, "s3cret"))
	testenv.WaitFor(t, 60*time.Second, "copy in "+ns2, copyIn(ns2, "s3cret"))

	// A namespace created (labelled) later gets its copy too.
	ns3 := testenv.Namespace(t, cfg, "copier-c")
	label(ns3)
	testenv.WaitFor(t, 60*time.Second, "copy in later namespace "+ns3, copyIn(ns3, "s3cret"))

	// A change of the source reaches every copy.
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: Secret
metadata: {name: registry-auth, namespace: `+src+`, labels: {secret-copier: "yes"}}
type: Opaque
stringData: {token: rotated}
`)
	for _, ns := range []string{ns1, ns2, ns3} {
		testenv.WaitFor(t, 60*time.Second, "rotated copy in "+ns, copyIn(ns, "rotated"))
	}
	for _, ns := range []string{ns1, ns2, ns3} {
		if _, err := cs.CoreV1().Secrets(ns).Get(context.Background(), "not-copied", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("unlabelled secret copied into %s: %v", ns, err)
		}
	}

	// Deleting the source deletes every copy (DeleteInBackground: the test
	// control plane runs no garbage collector to finish foreground deletes).
	if err := cs.CoreV1().Secrets(src).Delete(context.Background(), "registry-auth", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{ns1, ns2, ns3} {
		testenv.WaitFor(t, 60*time.Second, "copy deleted in "+ns, gone(ns))
	}
	// Every run of the grouped hook got Group contexts only.
	for _, bc := range ts.contexts(t, "copier") {
		if bc["type"] != "Group" || bc["groupName"] != "copier" {
			t.Fatalf("context is not a Group context: %v", bc)
		}
		if _, ok := bc["snapshots"].(map[string]any)["copies"]; !ok || strings.Contains(fmt.Sprint(bc), "object:") {
			t.Fatalf("context snapshots: %v", bc)
		}
	}
}
