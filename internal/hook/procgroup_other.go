//go:build !unix

package hook

import (
	"os"
	"os/exec"
)

// ownProcessGroup kills only the hook process where process groups do not exist.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.Cancel = func() error { return cmd.Process.Kill() }
}

// killLeftovers does nothing where a hook's children cannot be found.
func killLeftovers(*exec.Cmd) error { return nil }

// maxRSS is not known here.
func maxRSS(*os.ProcessState) int64 { return 0 }
