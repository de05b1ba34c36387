//go:build unix

package hook

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup makes the hook the leader of a new process group and kills
// the whole group on cancellation, so children a script started die with it.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
