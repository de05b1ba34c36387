package hookserver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// waitForSynchronization on a binding in its own queue holds the main queue
// until that Synchronization ran: the later hook's Synchronization (in main)
// comes after it even though the first one is slow.
func TestWaitForSynchronizationInOtherQueue(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "waitsync")
	dir := t.TempDir()
	writeHook(t, dir, "a-side.sh", `
configVersion: v1
kubernetes:
- name: side
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
  queue: side
  waitForSynchronization: true
`, `
if jq -e '.[0].type == "Synchronization"' "$BINDING_CONTEXT_PATH" >/dev/null; then sleep 2; fi
echo "a-side $(jq -r '.[0].type' "$BINDING_CONTEXT_PATH")" >> "$OUT_DIR/order"`)
	writeHook(t, dir, "b-main.sh", `
configVersion: v1
kubernetes:
- name: main
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [`+ns+`]}}
`, `echo "b-main $(jq -r '.[0].type' "$BINDING_CONTEXT_PATH")" >> "$OUT_DIR/order"`)
	ts := startServer(t, dir)
	ts.waitReady(t)
	if got := readFile(t, ts.outDir+"/order"); got != "a-side Synchronization\nb-main Synchronization\n" {
		t.Fatalf("order:\n%s", got)
	}
	_, body := ts.get(t, "/debug/queues")
	var reply QueuesReply
	if err := json.Unmarshal([]byte(body), &reply); err != nil || len(reply.Queues) != 2 || reply.Queues[1].Name != "side" {
		t.Fatalf("queues: %s", body)
	}
}

// settings.executionMinInterval/executionBurst become a token bucket per
// hook; runs beyond the burst wait in the hook's queue.
func TestExecutionRateLimit(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "limited.sh", `
configVersion: v1
settings: {executionMinInterval: 1h, executionBurst: 2}
schedule: [{name: tick, crontab: "* * * * * *", queue: limited}]
`, recordBody("limited"))
	ts := startServer(t, dir)
	testenv.WaitFor(t, 60*time.Second, "two runs, then a run waiting for the limiter", func() (bool, string) {
		_, body := ts.get(t, "/debug/queues")
		var reply QueuesReply
		_ = json.Unmarshal([]byte(body), &reply)
		for _, q := range reply.Queues {
			if q.Name == "limited" && q.Current != nil && q.Current.Running && len(ts.runs(t, "limited")) == 2 {
				return true, body
			}
		}
		return false, body
	})
	ts.mu.Lock()
	lim := ts.byName["limited.sh"].Limiter()
	ts.mu.Unlock()
	if lim == nil || lim.Limit() != rate.Every(time.Hour) || lim.Burst() != 2 {
		t.Fatalf("limiter = %+v", lim)
	}
	if tokens := lim.Tokens(); tokens >= 1 {
		t.Fatalf("limiter has %v tokens after the burst", tokens)
	}
	if n := len(ts.runs(t, "limited")); n != 2 {
		t.Fatalf("runs = %d, want the burst of 2", n)
	}
}

// KeepTmpFiles (DEBUG_KEEP_TMP_FILES) leaves each run's binding context in
// TempDir.
func TestKeepTmpFiles(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "startup.sh", "configVersion: v1\nonStartup: 1", "true")
	tmp := t.TempDir()
	ts := startServer(t, dir, func(o *Options) { o.TempDir, o.KeepTmpFiles = tmp, true })
	ts.waitReady(t)
	matches, err := filepath.Glob(filepath.Join(tmp, "hook-startup.sh-*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var contexts string
	for _, m := range matches {
		if b, err := os.ReadFile(m); err == nil && strings.Contains(string(b), `"binding":"onStartup"`) {
			contexts = m
		}
	}
	if contexts == "" {
		t.Fatalf("no kept binding context in %s: %v", tmp, matches)
	}
}
