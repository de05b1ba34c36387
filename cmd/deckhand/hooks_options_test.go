package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func TestHooksOneLineKeepsRunes(t *testing.T) {
	s := strings.Repeat("ü", 100)
	got := oneLine(s, 80)
	if !utf8.ValidString(got) || utf8.RuneCountInString(got) != 80 || !strings.HasSuffix(got, "...") {
		t.Fatalf("oneLine = %q (%d runes)", got, utf8.RuneCountInString(got))
	}
	if got := oneLine("a\n  b", 80); got != "a b" {
		t.Fatalf("oneLine folds to %q", got)
	}
}

func TestHooksLoggerFromLevelAndFormat(t *testing.T) {
	var buf bytes.Buffer
	log, err := newHooksLogger(&buf, "warn", "json")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) {
		t.Fatalf("json warn logger wrote %q", out)
	}
	buf.Reset()
	log, err = newHooksLogger(&buf, "debug", "text")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("detail")
	if !strings.Contains(buf.String(), "level=DEBUG msg=detail") {
		t.Fatalf("text debug logger wrote %q", buf.String())
	}
	if _, err := newHooksLogger(&buf, "loud", "text"); err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") {
		t.Fatalf("bad level: %v", err)
	}
	if _, err := newHooksLogger(&buf, "info", "xml"); err == nil || !strings.Contains(err.Error(), "LOG_TYPE") {
		t.Fatalf("bad format: %v", err)
	}
}

// A missing hooks directory says how to pass one; SHELL_OPERATOR_HOOKS_DIR
// is honoured.
func TestHooksServeMissingHooksDir(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	missing := filepath.Join(t.TempDir(), "nope")
	cmd := exec.Command(bin, "hooks", "serve")
	cmd.Env = append(cmd.Environ(), "SHELL_OPERATOR_HOOKS_DIR="+missing)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), missing) || !strings.Contains(string(out), "pass --hooks-dir DIR or set SHELL_OPERATOR_HOOKS_DIR") {
		t.Fatalf("hooks serve without hooks dir: %v\n%s", err, out)
	}
}
