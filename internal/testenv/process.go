package testenv

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PIDsIn reads the process IDs a test hook wrote to path, one a line or
// space-separated; what is not a number is skipped, and a missing file is
// none yet.
func PIDsIn(path string) []int {
	b, _ := os.ReadFile(path)
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ProcessAlive reports whether pid runs. A killed process that waits to be
// reaped (a zombie) does not count: it runs nothing any more.
func ProcessAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		// Without /proc (not Linux) the signal check has to do.
		_, selfErr := os.Stat("/proc/self")
		return !(errors.Is(err, os.ErrNotExist) && selfErr == nil)
	}
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 {
		return !strings.HasPrefix(strings.TrimSpace(string(stat)[i+1:]), "Z")
	}
	return true
}

// KillAtCleanup SIGKILLs pids when the test ends, so a test that fails half
// way leaves none of its hook's processes running.
func KillAtCleanup(t testing.TB, pids []int) {
	t.Cleanup(func() {
		for _, pid := range pids {
			if ProcessAlive(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
}

// WaitProcessesGone fails the test unless every pid is gone within timeout
// (killing is asynchronous: the kernel reaps after the signal). Any left are
// killed when the test ends.
func WaitProcessesGone(t testing.TB, timeout time.Duration, what string, pids []int) {
	t.Helper()
	KillAtCleanup(t, pids)
	WaitFor(t, timeout, what, func() (bool, string) {
		var left []int
		for _, pid := range pids {
			if ProcessAlive(pid) {
				left = append(left, pid)
			}
		}
		return len(left) == 0, fmt.Sprint("alive: ", left)
	})
}
