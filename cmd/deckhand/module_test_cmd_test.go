package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// runModuleTestCmd runs `deckhand module test ARGS...` in-process.
func runModuleTestCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"module", "test"}, args...))
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

// The example module's own tests pass: a kubernetes binding with objects and
// a jqFilter, events, an onStartup values patch with manifests, and an
// expected hook failure.
func TestModuleTestExample(t *testing.T) {
	out, err := runModuleTestCmd(t, filepath.Join("..", "..", "examples", "modules", "pod-reporter"))
	if err != nil {
		t.Fatalf("module test: %v\n%s", err, out)
	}
	for _, want := range []string{"ok   tests/pods/synchronization.yaml", "ok   tests/pods/added.yaml", "ok   tests/banner/startup.yaml", "ok   tests/banner/multiline.yaml", "4 passed, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestModuleTestFailureJSONAndUpdate(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"module.yaml": "name: tiny\n",
		"hooks/set.sh": `#!/usr/bin/env bash
if [[ "${1:-}" == "--config" ]]; then echo 'configVersion: v1
onStartup: 1'; exit 0; fi
echo '[{"op":"add","path":"/tiny/x","value":"real"}]' > "$VALUES_JSON_PATCH_PATH"
`,
		"openapi/values.yaml": "type: object\nproperties:\n  x: {type: string}\n",
		"tests/set.yaml":      "hook: set.sh\nexpect:\n  valuesPatch: [{op: add, path: /tiny/x, value: wrong}]\n",
	}
	testenv.WriteFiles(t, dir, files)

	out, err := runModuleTestCmd(t, dir)
	if err == nil || !strings.Contains(err.Error(), "1 of 1 test case(s) failed") {
		t.Fatalf("want a failure, got %v\n%s", err, out)
	}
	if !strings.Contains(out, "FAIL tests/set.yaml") || !strings.Contains(out, "-    value: wrong") || !strings.Contains(out, "+    value: real") {
		t.Errorf("text output lacks the case or the diff:\n%s", out)
	}

	out, err = runModuleTestCmd(t, dir, "-o", "json")
	if err == nil {
		t.Fatal("want a failure with -o json")
	}
	var rep struct {
		Failed int `json:"failed"`
		Cases  []struct {
			File   string `json:"file"`
			Passed bool   `json:"passed"`
			Diff   string `json:"diff"`
		} `json:"cases"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	if rep.Failed != 1 || len(rep.Cases) != 1 || rep.Cases[0].File != "tests/set.yaml" || !strings.Contains(rep.Cases[0].Diff, "wrong") {
		t.Errorf("unexpected report %+v", rep)
	}

	if out, err := runModuleTestCmd(t, dir, "--update"); err != nil {
		t.Fatalf("--update: %v\n%s", err, out)
	}
	if out, err := runModuleTestCmd(t, dir, "--run", "^set$"); err != nil || !strings.Contains(out, "1 passed, 0 failed") {
		t.Fatalf("after --update: %v\n%s", err, out)
	}
	if out, err := runModuleTestCmd(t, dir, "--run", "^nothing$"); err == nil || !strings.Contains(err.Error(), "no test case matched") {
		t.Fatalf("want no-match error, got %v\n%s", err, out)
	}
}
