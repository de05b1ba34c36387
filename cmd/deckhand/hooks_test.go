package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/hookserver"
	"github.com/deckhand-dev/deckhand/internal/localenv"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestHooksServeAndDebugCommands runs `deckhand hooks serve` as a user would,
// then reads its queues and a hook's snapshots with `deckhand hooks queues`
// and `deckhand hooks snapshots`.
func TestHooksServeAndDebugCommands(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	cp, err := localenv.StartControlPlane(context.Background(), localenv.ControlPlaneOptions{KubeconfigPath: filepath.Join(t.TempDir(), "kubeconfig")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	testenv.Apply(t, cp.Config, `
apiVersion: v1
kind: Namespace
metadata: {name: hooks-cli}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: hooks-cli}
data: {mode: fast}
`)
	dir := t.TempDir()
	hook := `#!/usr/bin/env bash
if [[ "${1:-}" == "--config" ]]; then
  echo '{"configVersion":"v1","kubernetes":[{"name":"settings","kind":"ConfigMap","namespace":{"nameSelector":{"matchNames":["hooks-cli"]}},"jqFilter":".data"}]}'
  exit 0
fi
jq -c . "$BINDING_CONTEXT_PATH" >> "` + dir + `/runs"
`
	if err := os.MkdirAll(filepath.Join(dir, "hooks", "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hooks", "watch.sh"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freeHooksAddr(t)
	stderr := startHooksServe(t, bin, nil, "--hooks-dir", filepath.Join(dir, "hooks"),
		"--kubeconfig", cp.KubeconfigPath, "--listen-address", freeHooksAddr(t), "--debug-address", addr, "--tmp-dir", t.TempDir())

	testenv.WaitFor(t, 60*time.Second, "the hook's Synchronization run", func() (bool, string) {
		b, _ := os.ReadFile(filepath.Join(dir, "runs"))
		return strings.Contains(string(b), `"type":"Synchronization"`), stderr.String()
	})

	out := hooksCLI(t, bin, "hooks", "queues", "--address", addr)
	if !strings.HasPrefix(out, "QUEUE ") || !strings.Contains(out, "\nmain ") {
		t.Fatalf("hooks queues table:\n%s", out)
	}
	var queues hookserver.QueuesReply
	if err := json.Unmarshal([]byte(hooksCLI(t, bin, "hooks", "queues", "--address", addr, "-o", "json")), &queues); err != nil {
		t.Fatal(err)
	}
	if len(queues.Queues) != 1 || queues.Queues[0].Name != "main" {
		t.Fatalf("queues = %+v", queues)
	}

	out = hooksCLI(t, bin, "hooks", "snapshots", "watch.sh", "--address", addr)
	if !strings.Contains(out, "settings") || !strings.Contains(out, "ConfigMap hooks-cli/settings") || !strings.Contains(out, `{"mode":"fast"}`) {
		t.Fatalf("hooks snapshots table:\n%s", out)
	}
	yamlOut := hooksCLI(t, bin, "hooks", "snapshots", "watch.sh", "--address", addr, "-o", "yaml")
	if !strings.Contains(yamlOut, "hook: watch.sh") || !strings.Contains(yamlOut, "mode: fast") {
		t.Fatalf("hooks snapshots yaml:\n%s", yamlOut)
	}
	cmd := exec.Command(bin, "hooks", "snapshots", "missing.sh", "--address", addr)
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), `hook "missing.sh" not found`) {
		t.Fatalf("snapshots of an unknown hook: %v\n%s", err, b)
	}
	// Nothing listens there: the error says what to check.
	cmd = exec.Command(bin, "hooks", "queues", "--address", freeHooksAddr(t))
	b, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "is `deckhand hooks serve` running? use --address") {
		t.Fatalf("queues of no server: %v\n%s", err, b)
	}
}

func hooksCLI(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("deckhand %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func freeHooksAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return fmt.Sprint(l.Addr())
}

// startHooksServe runs `deckhand hooks serve ARGS...` as a separate process
// and, after the test, stops it with SIGTERM and checks it exits cleanly. The
// returned buffer collects its stderr, for failure messages.
func startHooksServe(t *testing.T, bin string, env []string, args ...string) *syncBuffer {
	t.Helper()
	serve := exec.Command(bin, append([]string{"hooks", "serve"}, args...)...)
	serve.Env = env
	stderr := &syncBuffer{}
	serve.Stderr = stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	t.Cleanup(func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("hooks serve exited with %v after SIGTERM\n%s", err, stderr.String())
			}
			// Where it listens and that it stopped are in the log.
			for _, want := range []string{"serving metrics and health", "stopped serving metrics and health"} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("hooks serve log lacks %q:\n%s", want, stderr.String())
				}
			}
		case <-time.After(30 * time.Second):
			_ = serve.Process.Kill()
			t.Errorf("hooks serve did not stop on SIGTERM")
		}
	})
	return stderr
}

// syncBuffer is a bytes.Buffer safe to read while the child process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
