package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// shutdownMargin is how long after its grace period deckhand may take to
// kill what is left, release its Lease and exit.
const shutdownMargin = 20 * time.Second

// deckhandProcess is a long-running deckhand command the test stops itself.
type deckhandProcess struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
}

// startDeckhand runs `deckhand ARGS...` with env added to the test's own.
func startDeckhand(t *testing.T, bin string, env []string, args ...string) *deckhandProcess {
	t.Helper()
	p := &deckhandProcess{cmd: exec.Command(bin, args...), stderr: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// terminate sends SIGTERM and waits up to within for the exit, which must
// be clean.
func (p *deckhandProcess) terminate(t *testing.T, within time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("deckhand exited with %v after SIGTERM\n%s", err, p.stderr.String())
		}
	case <-time.After(within):
		t.Fatalf("deckhand still runs %s after SIGTERM\n%s", within, p.stderr.String())
	}
}

// writeHook writes an executable hook answering --config with config.
func writeHook(t *testing.T, dir, name, config, body string) {
	t.Helper()
	script := "#!/usr/bin/env bash\nif [[ \"${1:-}\" == \"--config\" ]]; then echo '" + config + "'; exit 0; fi\n" + body
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// On SIGTERM a hook that outlives --shutdown-grace is killed with its
// children and grandchildren, deckhand exits soon after the grace, and the
// Lease it held is given up for the next replica.
func TestHooksServeShutdownKillsHookAfterGrace(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	cp := testenv.ControlPlane(t)
	leaseNS := testenv.Namespace(t, cp.Config, "hooks-shutdown")
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pids")
	writeHook(t, filepath.Join(dir, "hooks"), "hang.sh", `{"configVersion":"v1","onStartup":1}`, hangingHook(pidFile))
	const grace = 2 * time.Second
	p := startDeckhand(t, bin, nil, "hooks", "serve", "--hooks-dir", filepath.Join(dir, "hooks"), "--kubeconfig", cp.KubeconfigPath,
		"--listen-address", freeHooksAddr(t), "--debug-address", "", "--tmp-dir", t.TempDir(),
		"--leader-elect", "--lease-namespace", leaseNS, "--lease-name", "shutdown", "--shutdown-grace", grace.String())
	testenv.WaitFor(t, 60*time.Second, "the hook's four processes", func() (bool, string) {
		pids := testenv.PIDsIn(pidFile)
		for _, pid := range pids {
			if !testenv.ProcessAlive(pid) {
				return false, "not running: " + strconv.Itoa(pid)
			}
		}
		return len(pids) == 4, p.stderr.String()
	})
	pids := testenv.PIDsIn(pidFile)
	testenv.KillAtCleanup(t, pids)

	p.terminate(t, grace+shutdownMargin)
	testenv.WaitProcessesGone(t, 5*time.Second, "no process of the hook alive", pids)
	if !strings.Contains(p.stderr.String(), "shutdown grace period over: killing the running hooks") {
		t.Errorf("no log of the hook killed at the end of the grace:\n%s", p.stderr.String())
	}
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := cs.CoordinationV1().Leases(leaseNS).Get(t.Context(), "shutdown", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("the Lease is still held by %q after the exit", *h)
	}
}

// On SIGTERM a hook that finishes within --shutdown-grace completes its run
// (its output is written), no further hook starts, and deckhand exits.
func TestHooksServeShutdownLetsRunningHookFinish(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	cp := testenv.ControlPlane(t)
	dir := t.TempDir()
	hooks := filepath.Join(dir, "hooks")
	started, release, out, second := filepath.Join(dir, "started"), filepath.Join(dir, "release"), filepath.Join(dir, "out"), filepath.Join(dir, "second")
	// The hook goes on only once the test saw deckhand take the signal, so
	// the signal surely arrives while it runs.
	writeHook(t, hooks, "a-slow.sh", `{"configVersion":"v1","onStartup":1}`, `
touch "`+started+`"
while [[ ! -e "`+release+`" ]]; do sleep 0.1; done
echo done > "`+out+`"
`)
	writeHook(t, hooks, "b-next.sh", `{"configVersion":"v1","onStartup":2}`, `touch "`+second+`"`+"\n")
	const grace = time.Minute
	p := startDeckhand(t, bin, nil, "hooks", "serve", "--hooks-dir", hooks, "--kubeconfig", cp.KubeconfigPath,
		"--listen-address", freeHooksAddr(t), "--debug-address", "", "--tmp-dir", t.TempDir(), "--shutdown-grace", grace.String())
	letRunningHookFinish(t, p, "hooks serve", started, release, out, grace)
	if _, err := os.Stat(second); err == nil {
		t.Errorf("a hook started after SIGTERM\n%s", p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), "grace period over") {
		t.Errorf("the hook was killed although it finished within the grace:\n%s", p.stderr.String())
	}
}

// `deckhand run` stops the same way: on SIGTERM a global hook that outlives
// --shutdown-grace is killed with its children and grandchildren, and one
// that finishes within it completes first.
func TestRunShutdown(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	cp := testenv.ControlPlane(t)
	run := func(t *testing.T, hooksDir string, grace time.Duration) *deckhandProcess {
		return startDeckhand(t, bin, []string{"MODULES_DIR="}, "run", "--global-hooks-dir", hooksDir, "--kubeconfig", cp.KubeconfigPath,
			"-n", testenv.Namespace(t, cp.Config, "run-shutdown"), "--listen-address", "", "--module-configs=false",
			"--config-map", "-", "--install-crds=false", "--shutdown-grace", grace.String())
	}

	t.Run("killed after the grace", func(t *testing.T) {
		dir := t.TempDir()
		pidFile := filepath.Join(dir, "pids")
		writeHook(t, filepath.Join(dir, "global"), "hang.sh", `{"configVersion":"v1","onStartup":1}`, hangingHook(pidFile))
		const grace = 2 * time.Second
		p := run(t, filepath.Join(dir, "global"), grace)
		testenv.WaitFor(t, 60*time.Second, "the hook's four processes", func() (bool, string) {
			return len(testenv.PIDsIn(pidFile)) == 4, p.stderr.String()
		})
		pids := testenv.PIDsIn(pidFile)
		testenv.KillAtCleanup(t, pids)
		p.terminate(t, grace+shutdownMargin)
		testenv.WaitProcessesGone(t, 5*time.Second, "no process of the hook alive", pids)
		if !strings.Contains(p.stderr.String(), "shutdown grace period over: killing the running hooks") {
			t.Errorf("no log of the hook killed at the end of the grace:\n%s", p.stderr.String())
		}
	})

	t.Run("finishes within the grace", func(t *testing.T) {
		dir := t.TempDir()
		started, release, out := filepath.Join(dir, "started"), filepath.Join(dir, "release"), filepath.Join(dir, "out")
		writeHook(t, filepath.Join(dir, "global"), "slow.sh", `{"configVersion":"v1","onStartup":1}`, `
touch "`+started+`"
while [[ ! -e "`+release+`" ]]; do sleep 0.1; done
echo done > "`+out+`"
`)
		const grace = time.Minute
		p := run(t, filepath.Join(dir, "global"), grace)
		letRunningHookFinish(t, p, "run", started, release, out, grace)
	})
}

// letRunningHookFinish sends SIGTERM to p while its hook runs (it has
// created started), lets the hook go on (creates release) once deckhand
// drains, and checks that deckhand then exits cleanly within grace and that
// the hook completed (wrote "done" to out).
func letRunningHookFinish(t *testing.T, p *deckhandProcess, what, started, release, out string, grace time.Duration) {
	t.Helper()
	testenv.WaitFor(t, 60*time.Second, "the slow hook running", func() (bool, string) {
		_, err := os.Stat(started)
		return err == nil, p.stderr.String()
	})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, "deckhand draining", func() (bool, string) {
		return strings.Contains(p.stderr.String(), "shutting down: starting no new hook run"), p.stderr.String()
	})
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("%s exited with %v after SIGTERM\n%s", what, err, p.stderr.String())
		}
	case <-time.After(grace + shutdownMargin):
		t.Fatalf("%s still runs after SIGTERM\n%s", what, p.stderr.String())
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "done\n" {
		t.Errorf("the hook running at SIGTERM did not complete: %q, %v\n%s", b, err, p.stderr.String())
	}
}

// hangingHook is a hook body that never ends on its own: four processes (a
// background child, a grandchild, the subshell between, and the foreground
// child it waits for), each PID appended to pidFile.
func hangingHook(pidFile string) string {
	return `
sleep 1000 &
echo $! >> "` + pidFile + `"
bash -c 'sleep 1000 & echo $! >> "` + pidFile + `"; wait' &
echo $! >> "` + pidFile + `"
sleep 1000 &
fg=$!
echo $fg >> "` + pidFile + `"
wait $fg
`
}
