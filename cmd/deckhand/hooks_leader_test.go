package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/hookserver"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestHooksServeLeaderElectOnOneHost runs two `hooks serve --leader-elect`
// processes on one host without POD_NAME: they get distinct identities, so
// exactly one leads and runs the hooks while the other stands by.
func TestHooksServeLeaderElectOnOneHost(t *testing.T) {
	bin := deckhandBinary(t)
	cp := testenv.ControlPlane(t)
	leaseNS := testenv.Namespace(t, cp.Config, "hooks-lease")
	dir := t.TempDir()
	hook := `#!/usr/bin/env bash
if [[ "${1:-}" == "--config" ]]; then echo '{"configVersion":"v1","onStartup":1}'; exit 0; fi
echo run >> "` + dir + `/runs"
`
	if err := os.MkdirAll(filepath.Join(dir, "hooks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hooks", "startup.sh"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "POD_NAME=") {
			env = append(env, kv)
		}
	}
	addrs := []string{startHooksServe(t, bin, env, dir, leaseNS), startHooksServe(t, bin, env, dir, leaseNS)}
	testenv.WaitFor(t, 60*time.Second, "one leader and one standby", func() (bool, string) {
		var roles []string
		leaders, standbys := 0, 0
		for _, addr := range addrs {
			reply, err := hookserver.NewDebugClient(addr).Queues(t.Context())
			if err != nil {
				return false, err.Error()
			}
			roles = append(roles, reply.Role)
			switch {
			case reply.Role == "leader":
				leaders++
			case strings.HasPrefix(reply.Role, "standby (leader: ") && reply.Role != "standby (leader: )":
				standbys++
			}
		}
		return leaders == 1 && standbys == 1, fmt.Sprint(roles)
	})
	if b, _ := os.ReadFile(filepath.Join(dir, "runs")); string(b) != "run\n" {
		t.Fatalf("onStartup ran %q, want once", b)
	}
}

// startHooksServe starts `deckhand hooks serve --leader-elect` until the test
// ends and returns its debug address (--debug-address).
func startHooksServe(t *testing.T, bin string, env []string, dir, leaseNS string) string {
	t.Helper()
	addr := freeHooksAddr(t)
	serve := exec.Command(bin, "hooks", "serve", "--hooks-dir", filepath.Join(dir, "hooks"),
		"--kubeconfig", testenv.ControlPlane(t).KubeconfigPath, "--listen-address", freeHooksAddr(t), "--debug-address", addr, "--tmp-dir", t.TempDir(),
		"--leader-elect", "--lease-namespace", leaseNS)
	serve.Env = env
	var stderr bytes.Buffer
	serve.Stderr = &stderr
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
		case <-time.After(30 * time.Second):
			_ = serve.Process.Kill()
			t.Errorf("hooks serve did not stop on SIGTERM")
		}
	})
	return addr
}
