//go:build unix && !darwin

package hook

import (
	"os"
	"syscall"
)

// maxRSS is the peak resident set size of the finished process in bytes;
// Linux and the BSDs report ru_maxrss in KiB.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return asInt64(ru.Maxrss) * 1024
	}
	return 0
}
