//go:build unix && !linux && !darwin

package hook

import (
	"os"
	"syscall"
)

// maxRSS is the peak resident set size of the finished process in bytes;
// the BSDs report ru_maxrss in KiB, like Linux.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return asInt64(ru.Maxrss) * 1024
	}
	return 0
}
