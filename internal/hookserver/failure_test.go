package hookserver

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// A hook failing forever in its queue is retried there with backoff and its
// reason shows in /debug/queues and /metrics, while hooks in other queues
// keep running.
func TestFailingHookDoesNotBlockOtherQueues(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "broken.sh", `
configVersion: v1
schedule: [{name: tick, crontab: "* * * * * *", queue: lane-broken}]
`, `echo "cannot reach backend" >&2; exit 1`)
	writeHook(t, dir, "flaky.sh", `
configVersion: v1
schedule: [{name: tick, crontab: "* * * * * *", queue: lane-allowed, allowFailure: true}]
`, `exit 3`)
	writeHook(t, dir, "healthy.sh", `
configVersion: v1
schedule: [{name: tick, crontab: "* * * * * *", queue: lane-healthy}]
`, recordBody("healthy"))
	ts := startServer(t, dir)
	testenv.WaitFor(t, 60*time.Second, "broken to fail 3 times in a row", func() (bool, string) {
		_, body := ts.get(t, "/debug/queues")
		var reply QueuesReply
		if err := json.Unmarshal([]byte(body), &reply); err != nil {
			return false, body
		}
		for _, q := range reply.Queues {
			if q.Name == "lane-broken" {
				return q.Failures >= 3 && q.Current != nil && q.Current.Subject == "broken.sh" && strings.Contains(q.LastError, "cannot reach backend"), body
			}
		}
		return false, body
	})
	// While broken.sh is stuck, healthy.sh keeps running in its own queue.
	testenv.WaitFor(t, 60*time.Second, "healthy hook to keep running", func() (bool, string) {
		n := len(ts.runs(t, "healthy"))
		return n >= 3, fmt.Sprint(n, " runs")
	})
	_, metrics := ts.get(t, "/metrics")
	stuck := regexp.MustCompile(`deckhand_tasks_queue_head_failures\{hook="broken.sh",queue="lane-broken"\} (\d+)`).FindStringSubmatch(metrics)
	if stuck == nil {
		t.Fatalf("/metrics does not name the stuck hook:\n%s", metrics)
	}
	if n, _ := strconv.Atoi(stuck[1]); n < 3 {
		t.Fatalf("head failures = %s", stuck[1])
	}
	if !regexp.MustCompile(`deckhand_hook_run_allowed_errors_total\{binding="tick",hook="flaky.sh",queue="lane-allowed"\} \d+`).MatchString(metrics) {
		t.Fatalf("/metrics lacks allowed errors of flaky.sh")
	}
	if !strings.Contains(metrics, `deckhand_hook_run_success_total{binding="tick",hook="healthy.sh",queue="lane-healthy"}`) {
		t.Fatal("/metrics lacks healthy.sh successes")
	}
	// allowFailure tasks are dropped, never retried: that lane records no failing head.
	_, body := ts.get(t, "/debug/queues")
	var reply QueuesReply
	if err := json.Unmarshal([]byte(body), &reply); err != nil {
		t.Fatal(err)
	}
	for _, q := range reply.Queues {
		if q.Name == "lane-allowed" && q.Failures != 0 {
			t.Fatalf("allowFailure lane records failures: %+v", q)
		}
	}
}

// Patches are applied only when the hook succeeded and both output files are
// valid; a malformed METRICS_PATH fails the run and applies nothing.
func TestPatchesAppliedOnlyOnSuccess(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "patches")
	dir := t.TempDir()
	writeHook(t, dir, "patcher.sh", "configVersion: v1\nonStartup: 1", `
n=$(( $(cat "$OUT_DIR/attempts" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$OUT_DIR/attempts"
jq -nc --arg n "$n" '{operation: "CreateOrUpdate", object: {apiVersion: "v1", kind: "ConfigMap",
  metadata: {name: ("attempt-" + $n), namespace: "`+ns+`"}, data: {n: $n}}}' > "$KUBERNETES_PATCH_PATH"
case "$n" in
  1) echo "first attempt fails" >&2; exit 1 ;;
  2) echo '{"name":"patcher_runs","action":"increment","value":1}' > "$METRICS_PATH" ;;
  *) echo '{"name":"patcher_runs","set":'"$n"'}' > "$METRICS_PATH" ;;
esac
`)
	ts := startServer(t, dir)
	cs := clientset(t)
	testenv.WaitFor(t, 60*time.Second, "attempt-3 ConfigMap", func() (bool, string) {
		_, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), "attempt-3", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	for _, name := range []string{"attempt-1", "attempt-2"} {
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("%s of a failed run was applied (err %v)", name, err)
		}
	}
	ts.waitReady(t)
	_, hookMetrics := ts.get(t, "/metrics/hooks")
	if !strings.Contains(hookMetrics, `patcher_runs{hook="patcher.sh"} 3`) {
		t.Fatalf("/metrics/hooks:\n%s", hookMetrics)
	}
	_, metrics := ts.get(t, "/metrics")
	if !strings.Contains(metrics, `deckhand_hook_run_errors_total{binding="onStartup",hook="patcher.sh",queue="main"} 2`) ||
		!strings.Contains(metrics, `patcher_runs{hook="patcher.sh"} 3`) {
		t.Fatalf("/metrics lacks run errors or hook metric:\n%s", metrics)
	}
}

// A Synchronization run that fails with allowFailure counts as success: the
// server becomes ready (the waitForSynchronization wait in "main" ends) and
// later events of both bindings, in "main" and in their own queue, run.
func TestAllowFailureSynchronizationUnlocksEvents(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "allow-sync")
	dir := t.TempDir()
	writeHook(t, dir, "sync-fails.sh", `
configVersion: v1
kubernetes:
- name: main-cms
  apiVersion: v1
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  labelSelector: {matchLabels: {lane: main}}
  allowFailure: true
- name: lane-cms
  apiVersion: v1
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  labelSelector: {matchLabels: {lane: own}}
  queue: lane-sync
  waitForSynchronization: true
  allowFailure: true
`, recordBody("runs")+`
if jq -e 'any(.[]; .type == "Synchronization")' "$BINDING_CONTEXT_PATH" >/dev/null; then
  echo "synchronization fails" >&2; exit 1
fi`)
	ts := startServer(t, dir)
	ts.waitReady(t)
	testenv.Apply(t, cfg, `
apiVersion: v1
kind: ConfigMap
metadata: {name: in-main, namespace: `+ns+`, labels: {lane: main}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: in-lane, namespace: `+ns+`, labels: {lane: own}}
`)
	testenv.WaitFor(t, 60*time.Second, "Added events of both bindings to run", func() (bool, string) {
		seen := map[string]bool{}
		for _, bc := range ts.contexts(t, "runs") {
			if bc["type"] == "Event" {
				seen[fmt.Sprint(bc["binding"], " ", bc["object"])] = true
			}
		}
		return seen["main-cms "+ns+"/in-main"] && seen["lane-cms "+ns+"/in-lane"], fmt.Sprint(seen)
	})
}
