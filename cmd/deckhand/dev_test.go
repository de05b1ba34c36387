package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestDevRunsUntilInterrupted runs `deckhand dev` as a user would: waits for
// the export line, uses kubectl and the registry, presses Ctrl-C (SIGINT) and
// checks that every process it started is gone and its ports are free.
func TestDevRunsUntilInterrupted(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	// A module of the user's own, in the inner loop.
	mine := filepath.Join(t.TempDir(), "my-module")
	writeDevModule(t, mine, "first")
	cmd := exec.Command(bin, "dev", "--kubeconfig-out", kubeconfig, "--modules-dir", "../../examples/modules", "--module", mine, "-n", "dev-loop")
	marker := markEnv(t, cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	lines := readLines(stdout)
	exportLine := waitLine(t, lines, "export KUBECONFIG=", 10*time.Minute, stderr)
	if got := strings.TrimPrefix(exportLine, "export KUBECONFIG="); got != kubeconfig {
		t.Fatalf("export line names %q, want %q", got, kubeconfig)
	}
	regLine := waitLine(t, lines, "# registry: ", time.Minute, stderr)
	regAddr := strings.Fields(strings.TrimPrefix(regLine, "# registry: "))[0]

	out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "namespace", "default", "-o", "name").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "namespace/default" {
		t.Fatalf("kubectl get namespace default: %v: %s", err, out)
	}
	resp, err := http.Get("http://" + regAddr + "/v2/")
	if err != nil {
		t.Fatalf("registry %s: %v", regAddr, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registry /v2/ answered %s", resp.Status)
	}
	// The example modules are published as a module source with a stable channel.
	srcLine := waitLine(t, lines, "# module source: ", time.Minute, stderr)
	source := strings.Fields(strings.TrimPrefix(srcLine, "# module source: "))[0]
	out, err = exec.Command(bin, "registry", "ls", source, "-o", "json").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "hello-world") {
		t.Fatalf("deckhand registry ls %s: %v\n%s", source, err, out)
	}
	out, err = exec.Command(bin, "registry", "tags", source, "hello-world", "-o", "json").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "stable") || !strings.Contains(string(out), "v0.1.0") {
		t.Fatalf("deckhand registry tags %s hello-world: %v\n%s", source, err, out)
	}
	// The whole system runs: the modules are Deployed from the source and
	// kubectl lists them; an edit of the user's module rolls out.
	waitLine(t, lines, "my-module ", 8*time.Minute, stderr)
	out, err = exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "modules,modulereleases,modulesources").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "hello-world-v0.1.0") || !strings.Contains(string(out), "my-module") {
		t.Fatalf("kubectl get modules,modulereleases,modulesources: %v\n%s", err, out)
	}
	// The default setup is the safe one: the source enforces the dev key, and
	// what dev published verifies with it.
	out, err = exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "modulesource", "local", "-o", "jsonpath={.spec.verification.mode}").CombinedOutput()
	if err != nil || string(out) != "Enforce" {
		t.Fatalf("the dev source's verification mode: %q (%v)", out, err)
	}
	out, err = exec.Command(bin, "registry", "verify", source, "hello-world", "stable", "--key", filepath.Join(filepath.Dir(kubeconfig), "signing.pub")).CombinedOutput()
	if err != nil {
		t.Fatalf("deckhand registry verify: %v\n%s", err, out)
	}
	writeDevModule(t, mine, "second")
	testenv.WaitFor(t, 2*time.Minute, "the edit serving", func() (bool, string) {
		return strings.Contains(stderr.String(), "my-module v0.1.1 serving"), stderr.String()
	})
	out, err = exec.Command("kubectl", "--kubeconfig", kubeconfig, "-n", "dev-loop", "get", "configmap", "my-module", "-o", "jsonpath={.data.say}").CombinedOutput()
	if err != nil || string(out) != "second" {
		t.Fatalf("the edited module's ConfigMap says %q (%v)", out, err)
	}
	out, err = exec.Command(bin, "status", "my-module", "--kubeconfig", kubeconfig).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v0.1.1") || !strings.Contains(string(out), "Superseded") {
		t.Fatalf("deckhand status my-module: %v\n%s", err, out)
	}
	if children := markedPIDs(marker); len(children) < 3 {
		t.Fatalf("expected etcd, kube-apiserver and docker-registry as children, found pids %v", children)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, stderr)
	assertGone(t, marker)
}

// TestDevExitWhenReady checks the scripted mode: it comes up, prints the
// export line, exits 0 and leaves nothing behind.
func TestDevExitWhenReady(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cmd := exec.Command(bin, "dev", "--exit-when-ready", "--kubeconfig-out", kubeconfig, "--modules-dir", "../../examples/modules", "-n", "dev-test")
	marker := markEnv(t, cmd)
	var stdout bytes.Buffer
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("deckhand dev --exit-when-ready: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		t.Fatalf("deckhand dev --exit-when-ready did not exit\nstderr:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "export KUBECONFIG="+kubeconfig) {
		t.Fatalf("no export line in output:\n%s", stdout.String())
	}
	var regAddr string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "# registry: ") {
			regAddr = strings.Fields(strings.TrimPrefix(l, "# registry: "))[0]
		}
	}
	if regAddr == "" {
		t.Fatalf("no registry line in output:\n%s", stdout.String())
	}
	// The example modules ran: the summary lists them converged.
	for _, m := range []string{"hello-world", "pod-reporter", "static-page", "greeter"} {
		if !regexp.MustCompile(`(?m)^` + m + `\s+local\s+v0\.1\.0\s+Deployed\s+Ready\s+true`).MatchString(stdout.String()) {
			t.Errorf("module %s not Ready in the summary:\n%s", m, stdout.String())
		}
	}
	assertGone(t, marker)
}

func readLines(r interface{ Read([]byte) (int, error) }) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

func waitLine(t *testing.T, lines <-chan string, prefix string, timeout time.Duration, stderr *syncBuffer) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("deckhand dev exited before printing %q\nstderr:\n%s", prefix, stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no line starting %q within %s\nstderr:\n%s", prefix, timeout, stderr.String())
		}
	}
}

func waitExit(t *testing.T, cmd *exec.Cmd, stderr *syncBuffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("deckhand dev after SIGINT: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("deckhand dev still running a minute after SIGINT\nstderr:\n%s", stderr.String())
	}
}

// markEnv gives the command (and so every process it starts) a unique
// environment variable, so the test can find its processes in /proc.
func markEnv(t *testing.T, cmd *exec.Cmd) string {
	marker := fmt.Sprintf("DECKHAND_TEST_MARKER=%s-%d", t.Name(), time.Now().UnixNano())
	cmd.Env = append(os.Environ(), marker)
	return marker
}

// markedPIDs lists live (not zombie) processes whose environment holds marker.
func markedPIDs(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p))
		if err != nil || !bytes.Contains(env, []byte(marker+"\x00")) {
			continue
		}
		if stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p)); strings.Contains(string(stat), ") Z ") {
			continue
		}
		out = append(out, p)
	}
	return out
}

// assertGone fails when a process started by the deckhand dev under test is
// still alive. Ports are not dialed: once the processes are gone nothing of
// ours can hold them, and another test binary may legitimately reuse them.
func assertGone(t *testing.T, marker string) {
	t.Helper()
	if left := markedPIDs(marker); len(left) > 0 {
		t.Errorf("processes still running after deckhand dev exited: %v", left)
	}
}

// writeDevModule writes a module whose ConfigMap says say.
func writeDevModule(t *testing.T, dir, say string) {
	t.Helper()
	testenv.WriteFiles(t, dir, map[string]string{
		"module.yaml":       "name: my-module\nweight: 500\n",
		"Chart.yaml":        "apiVersion: v2\nname: my-module\nversion: 0.1.0\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: my-module\n  namespace: {{ .Release.Namespace }}\ndata:\n  say: " + say + "\n",
	})
}
