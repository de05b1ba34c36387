package hookserver

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func TestOnStartupRunsInOrder(t *testing.T) {
	dir := t.TempDir()
	// (order, name): b (10), c (10), a (20), then 010-sub/d (30).
	for _, h := range []struct{ name, order string }{{"a.sh", "20"}, {"b.sh", "10"}, {"c.sh", "10"}, {"010-sub/d.sh", "30"}} {
		writeHook(t, dir, h.name, "configVersion: v1\nonStartup: "+h.order,
			`echo "`+h.name+`" >> "$OUT_DIR/order"`+"\n"+recordBody("contexts"))
	}
	// A hook without onStartup never runs at startup.
	writeHook(t, dir, "z-schedule-only.sh", `{"configVersion":"v1","schedule":[{"crontab":"0 0 1 1 *"}]}`, `echo z >> "$OUT_DIR/order"`)
	ts := startServer(t, dir)
	ts.waitReady(t)
	ts.waitContexts(t, "contexts", "four onStartup runs",
		`[{"binding":"onStartup"},{"binding":"onStartup"},{"binding":"onStartup"},{"binding":"onStartup"}]`)
	order := readFile(t, ts.outDir+"/order")
	if order != "b.sh\nc.sh\na.sh\n010-sub/d.sh\n" {
		t.Fatalf("onStartup order:\n%s", order)
	}
}

func TestScheduleRunsWithSecondsCrontab(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "tick.sh", `
configVersion: v1
schedule:
- name: every-second
  crontab: "* * * * * *"
- name: yearly
  crontab: "0 0 1 1 *"
`, recordBody("ticks"))
	ts := startServer(t, dir)
	testenv.WaitFor(t, 30*time.Second, "three schedule runs", func() (bool, string) {
		ctxs := ts.contexts(t, "ticks")
		return len(ctxs) >= 3, strings.Repeat(".", len(ctxs))
	})
	for i, bc := range ts.contexts(t, "ticks") {
		if ok, got := jsonEqual(t, bc, `{"binding":"every-second","type":"Schedule"}`); !ok {
			t.Fatalf("context %d = %s", i, got)
		}
	}
}

func TestBrokenHookConfigFailsReadyzOthersRun(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "broken.sh", `
configVersion: v1
schedule:
- name: bad
  crontab: "61 * * * *"
`, `true`)
	writeHook(t, dir, "good.sh", "configVersion: v1\nonStartup: 1", recordBody("good"))
	ts := startServer(t, dir)
	ts.waitContexts(t, "good", "good hook to run", `[{"binding":"onStartup"}]`)
	testenv.WaitFor(t, 30*time.Second, "readyz to name the broken hook", func() (bool, string) {
		code, body := ts.get(t, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "broken.sh") && strings.Contains(body, "schedule[0].crontab") && !strings.Contains(body, "starting"), body
	})
	_, metrics := ts.get(t, "/metrics")
	for _, want := range []string{`deckhand_hook_config_errors{hook="broken.sh"} 1`, `deckhand_hook_config_errors{hook="good.sh"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, body := ts.get(t, "/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d %s", code, body)
	}
}
