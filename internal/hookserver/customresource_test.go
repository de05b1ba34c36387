package hookserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// A hook watching a custom resource whose CRD does not exist yet: enabling
// the binding fails (visible in /debug/queues) and is retried until the CRD
// appears, then Synchronization and events flow.
func TestCustomResourceHook(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "widgets")
	dir := t.TempDir()
	writeHook(t, dir, "widgets.sh", `
configVersion: v1
kubernetes:
- name: widgets
  apiVersion: test.deckhand.io/v1
  kind: wdg
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  jqFilter: .spec
  keepFullObjectsInMemory: false
`, recordBody("widgets"))
	ts := startServer(t, dir)
	testenv.WaitFor(t, 60*time.Second, "enable task failing on the missing kind", func() (bool, string) {
		_, body := ts.get(t, "/debug/queues")
		var reply QueuesReply
		if err := json.Unmarshal([]byte(body), &reply); err != nil {
			return false, body
		}
		for _, q := range reply.Queues {
			if q.Name == "main" && q.Failures > 0 && q.Current != nil && q.Current.Subject == "widgets.sh" &&
				q.Current.Kind == engine.KindEnableKubernetes && strings.Contains(q.LastError, "wdg") {
				return true, body
			}
		}
		return false, body
	})

	testenv.Apply(t, cfg, testenv.WidgetCRD)
	dyn := dynamic.NewForConfigOrDie(cfg)
	t.Cleanup(func() {
		crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
		_ = dyn.Resource(crds).Delete(context.Background(), "widgets.test.deckhand.io", metav1.DeleteOptions{})
	})
	ts.waitContexts(t, "widgets", "Synchronization after the CRD appeared",
		`[{"binding":"widgets","type":"Synchronization","objects":[]}]`)
	ts.waitReady(t)

	testenv.Apply(t, cfg, `
apiVersion: test.deckhand.io/v1
kind: Widget
metadata: {name: w1, namespace: `+ns+`}
spec: {size: 3, color: blue}
`)
	ts.waitContexts(t, "widgets", "Added widget", `[
		{"binding":"widgets","type":"Synchronization","objects":[]},
		{"binding":"widgets","type":"Event","watchEvent":"Added","filterResult":{"size":3,"color":"blue"}}]`)
}
