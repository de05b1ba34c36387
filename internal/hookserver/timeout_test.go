package hookserver

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// A hook that hangs is killed at the hook timeout together with its
// children and grandchildren; its queue shows the reason and retries it,
// while a hook in another queue keeps running meanwhile.
func TestHangingHookTimesOutInItsQueue(t *testing.T) {
	dir := t.TempDir()
	// Each run records four PIDs: a background child, a grandchild (the
	// background process of a background subshell) and the foreground child.
	writeHook(t, dir, "hang.sh", `
configVersion: v1
schedule: [{name: tick, crontab: "* * * * * *", queue: lane-hang}]
`, `sleep 1000 &
echo $! >> "$OUT_DIR/pids"
bash -c 'sleep 1000 & echo $! >> "$OUT_DIR/pids"; wait' &
echo $! >> "$OUT_DIR/pids"
sleep 1000 &
fg=$!
echo $fg >> "$OUT_DIR/pids"
wait $fg`)
	writeHook(t, dir, "healthy.sh", `
configVersion: v1
schedule: [{name: tick, crontab: "* * * * * *", queue: lane-healthy}]
`, recordBody("healthy"))
	// Long enough for healthy.sh to run a few times meanwhile.
	const timeout = 15 * time.Second
	ts := startServer(t, dir, func(o *Options) { o.HookTimeout = timeout })
	pidFile := filepath.Join(ts.outDir, "pids")
	t.Cleanup(func() {
		for _, pid := range testenv.PIDsIn(pidFile) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	testenv.WaitFor(t, 60*time.Second, "the hanging hook's processes", func() (bool, string) {
		pids := testenv.PIDsIn(pidFile)
		return len(pids) >= 4, fmt.Sprint(pids)
	})
	first := testenv.PIDsIn(pidFile)[:4]
	before := len(ts.runs(t, "healthy"))
	testenv.WaitFor(t, 60*time.Second, "healthy.sh running meanwhile", func() (bool, string) {
		n := len(ts.runs(t, "healthy"))
		return n >= before+2, fmt.Sprint(n, " runs")
	})
	for _, pid := range first {
		if !testenv.ProcessAlive(pid) {
			t.Fatalf("process %d of the hanging hook ended before healthy.sh ran twice: the other queue waited", pid)
		}
	}
	testenv.WaitFor(t, 60*time.Second, "lane-hang to report the timeout", func() (bool, string) {
		_, body := ts.get(t, "/debug/queues")
		var reply QueuesReply
		if err := json.Unmarshal([]byte(body), &reply); err != nil {
			return false, body
		}
		for _, q := range reply.Queues {
			if q.Name == "lane-hang" {
				return q.Failures >= 1 && strings.Contains(q.LastError, "hook hang.sh: killed after the hook timeout of "+timeout.String()), body
			}
		}
		return false, body
	})
	testenv.WaitProcessesGone(t, 10*time.Second, "the killed run's processes gone", first)
	testenv.WaitFor(t, 60*time.Second, "the hook retried", func() (bool, string) {
		pids := testenv.PIDsIn(pidFile)
		return len(pids) >= 8, fmt.Sprint(pids)
	})
}
