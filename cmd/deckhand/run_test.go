package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/localenv"
	"github.com/deckhand-dev/deckhand/internal/runtime"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// `deckhand run --once` as CI uses it: modules found through addon-operator's
// MODULES_DIR, one converge, a JSON summary, and a non-zero exit naming the
// count when a module fails.
func TestRunOnce(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	cp, err := localenv.StartControlPlane(context.Background(), localenv.ControlPlaneOptions{KubeconfigPath: filepath.Join(t.TempDir(), "kubeconfig")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{
		"values.yaml":                "okEnabled: true\nfailsEnabled: true\n",
		"010-ok/Chart.yaml":          "apiVersion: v2\nname: ok\nversion: 0.1.0\n",
		"010-ok/templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\ndata: {a: b}\n",
		"020-fails/Chart.yaml":       "apiVersion: v2\nname: fails\nversion: 0.1.0\n",
		"020-fails/templates/x.yaml": "{{ fail \"no backend\" }}\n",
	})
	cmd := exec.Command(bin, "run", "--once", "-o", "json", "--kubeconfig", cp.KubeconfigPath, "-n", "run-once", "--listen-address", "")
	cmd.Env = append(os.Environ(), "MODULES_DIR="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if err == nil || !strings.Contains(stderr.String(), "1 module(s) failed to converge") {
		t.Fatalf("exit: %v\nstderr:\n%s", err, stderr.String())
	}
	var sum runtime.Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout.String())
	}
	got := map[string]runtime.ModuleSummary{}
	for _, m := range sum.Modules {
		got[m.Name] = m
	}
	if got["ok"].Phase != "Ready" || got["ok"].Weight != 10 || got["ok"].Revision != 1 {
		t.Errorf("ok = %+v", got["ok"])
	}
	if got["fails"].Phase != "Error" || !strings.Contains(got["fails"].Error, "no backend") {
		t.Errorf("fails = %+v", got["fails"])
	}
	if sum.Failed != 1 {
		t.Errorf("failed = %d", sum.Failed)
	}

	// No modules directory at all: the error says how to give one.
	cmd = exec.Command(bin, "run", "--kubeconfig", cp.KubeconfigPath)
	cmd.Env = append(os.Environ(), "MODULES_DIR=", "GLOBAL_HOOKS_DIR=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--modules-dir") {
		t.Fatalf("no modules dir: %v\n%s", err, out)
	}
}
