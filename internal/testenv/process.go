package testenv

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
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
