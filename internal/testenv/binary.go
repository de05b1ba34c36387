package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the deckhand executable built once per test binary.
var binary struct {
	dir, path string
	err       error
}

// DeckhandBinary builds ./cmd/deckhand once per test binary, as the Makefile
// builds it (CGO_ENABLED=0), and returns its path, for tests and benchmarks
// that must run it as a user does: a separate process with its own children
// and its own memory. Main removes it when the package's tests end.
func DeckhandBinary(tb testing.TB) string {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if binary.path == "" && binary.err == nil {
		binary.dir, binary.err = os.MkdirTemp("", "deckhand-bin-")
		if binary.err == nil {
			path := filepath.Join(binary.dir, "deckhand")
			cmd := exec.Command("go", "build", "-o", path, "github.com/deckhand-dev/deckhand/cmd/deckhand")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				binary.err = fmt.Errorf("building deckhand: %w\n%s", err, out)
			} else {
				binary.path = path
			}
		}
	}
	if binary.err != nil {
		tb.Fatal(binary.err)
	}
	return binary.path
}
