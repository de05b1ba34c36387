package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/hookserver"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestHooksServeLeaderElectOnOneHost runs two `hooks serve --leader-elect`
// processes on one host without POD_NAME: they get distinct identities, so
// exactly one leads and runs the hooks while the other stands by.
func TestHooksServeLeaderElectOnOneHost(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
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
	addrs := []string{startLeaderReplica(t, bin, env, dir, leaseNS), startLeaderReplica(t, bin, env, dir, leaseNS)}
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
func startLeaderReplica(t *testing.T, bin string, env []string, dir, leaseNS string) string {
	t.Helper()
	addr := freeHooksAddr(t)
	startHooksServe(t, bin, env, "--hooks-dir", filepath.Join(dir, "hooks"),
		"--kubeconfig", testenv.ControlPlane(t).KubeconfigPath, "--listen-address", freeHooksAddr(t), "--debug-address", addr, "--tmp-dir", t.TempDir(),
		"--leader-elect", "--lease-namespace", leaseNS)
	return addr
}
