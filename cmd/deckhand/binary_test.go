package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// deckhandBinary builds the real binary once per test run, for tests that
// must see it as a user does: a separate process with its own children.
func deckhandBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "deckhand-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "deckhand")
		cmd := exec.Command("go", "build", "-o", built.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as the Makefile builds it
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("building deckhand: %v\n%s", built.err, built.out)
	}
	return built.path
}
