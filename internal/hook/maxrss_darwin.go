//go:build darwin

package hook

import (
	"os"
	"syscall"
)

// maxRSS is the peak resident set size of the finished process in bytes;
// macOS reports ru_maxrss in bytes already.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return asInt64(ru.Maxrss)
	}
	return 0
}
