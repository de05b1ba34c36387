//go:build unix

package hook

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// pidsScript starts a background child, a grandchild (a background process
// of a subshell) and a foreground child, records their PIDs one a line in
// pidFile and then runs the foreground one; it never finishes by itself.
func pidsScript(pidFile string) string {
	return `
sleep 1000 &
echo $! >> "` + pidFile + `"
bash -c 'sleep 1000 & echo $! >> "` + pidFile + `"; wait' &
echo $! >> "` + pidFile + `"
sleep 1000 &
fg=$!
echo $fg >> "` + pidFile + `"
wait $fg
`
}

// readPIDs polls pidFile until it holds n PIDs.
func readPIDs(t *testing.T, pidFile string, n int) []int {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		b, _ := os.ReadFile(pidFile)
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		if len(pids) >= n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d PIDs after 30s, want %d", pidFile, len(pids), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A hook running past its deadline is killed with its children and
// grandchildren, and the run fails with the deadline as its cause.
func TestRunTimeoutKillsGrandchildren(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pids")
	h := &Hook{Name: "hang.sh", Path: writeScript(t, dir, "hang.sh", pidsScript(pidFile)), Config: Config{Version: ConfigV1}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, h, nil, RunOptions{TmpDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
		done <- err
	}()
	pids := readPIDs(t, pidFile, 4)
	err := <-done
	var re *RunError
	if !errors.As(err, &re) || !errors.Is(err, context.DeadlineExceeded) || re.ExitCode != -1 {
		t.Fatalf("want a RunError of a hook killed at the deadline, got %v", err)
	}
	testenv.WaitProcessesGone(t, 10*time.Second, "no process left after the hook was killed", pids)
}

// A hook that exits leaving a background process behind (its output
// redirected, so nothing waits for it) does not leave it running.
func TestRunKillsLeftoverProcesses(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pids")
	h := &Hook{Name: "leave.sh", Path: writeScript(t, dir, "leave.sh", `
sleep 1000 >/dev/null 2>&1 &
echo $! >> "`+pidFile+`"
bash -c 'sleep 1000 >/dev/null 2>&1 & echo $! >> "`+pidFile+`"' >/dev/null 2>&1
`), Config: Config{Version: ConfigV1}}
	if _, err := Run(context.Background(), h, nil, RunOptions{TmpDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	testenv.WaitProcessesGone(t, 10*time.Second, "no process left after the hook exited", readPIDs(t, pidFile, 2))
}
