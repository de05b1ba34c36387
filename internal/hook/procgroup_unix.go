//go:build unix

package hook

import (
	"errors"
	"os/exec"
	"syscall"
)

// ownProcessGroup makes the hook the leader of a new process group and kills
// the whole group on cancellation (a hook timeout or shutdown), so children
// and grandchildren a script started die with it.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// killLeftovers kills what is left of the hook's process group after the
// hook exited (a background process it started): a run owns its group, and
// nothing a hook started may pile up across runs or outlive deckhand. The
// group id cannot be reused while a member lives, so this never hits
// another group; an empty group is ESRCH.
func killLeftovers(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
