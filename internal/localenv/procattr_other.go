//go:build !linux

package localenv

import "syscall"

// childProcAttr puts a child in its own process group so Stop can signal the
// group; outside Linux there is no parent-death signal.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
