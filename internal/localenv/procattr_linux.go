package localenv

import "syscall"

// childProcAttr puts a child in its own process group (so Stop can signal the
// group) and asks the kernel to kill it if deckhand dies without cleaning up.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
