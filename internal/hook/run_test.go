package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// syncBuffer is a log sink safe for the executor's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/usr/bin/env bash\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestRunProtocol(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "seen")
	path := writeScript(t, filepath.Join(dir, "hooks"), "sub/hook.sh", `
set -euo pipefail
{
  echo "pwd=$(pwd)"
  echo "args=$#"
  echo "custom=$CUSTOM"
  echo "binding=$(jq -r '.[0].binding' "$BINDING_CONTEXT_PATH")"
  echo "objects=$(jq -c '.[1].objects' "$BINDING_CONTEXT_PATH")"
  echo "values=$(jq -c . "$VALUES_PATH")"
  for v in METRICS_PATH KUBERNETES_PATCH_PATH VALIDATING_RESPONSE_PATH ADMISSION_RESPONSE_PATH CONVERSION_RESPONSE_PATH VALUES_JSON_PATCH_PATH; do
    f="${!v}"; [ -f "$f" ] && [ ! -s "$f" ] && echo "$v=empty-file"
  done
  [ "$VALIDATING_RESPONSE_PATH" = "$ADMISSION_RESPONSE_PATH" ] && echo "admission=same"
} > "$SEEN"
echo '{"name":"m","action":"set","value":1}' >> "$METRICS_PATH"
echo '{"operation":"Delete","kind":"Pod","name":"x"}' > "$KUBERNETES_PATCH_PATH"
echo '[{"op":"add","path":"/a","value":1}]' > "$VALUES_JSON_PATCH_PATH"
echo "hello from stdout"
echo "warn from stderr" >&2
echo '{"level":"warn","msg":"structured","count":2}'
printf 'no newline at end'
`)
	h := &Hook{Name: "sub/hook.sh", Path: path, Config: Config{Version: ConfigV1}}
	b := KubernetesBinding{Name: "pods"}
	sync := b.SynchronizationContext("m")
	sync.Objects = []ObjectAndFilterResult{{Object: json.RawMessage(podA)}}
	var logs syncBuffer
	tmp := t.TempDir()
	res, err := Run(context.Background(), h, []BindingContext{OnStartupContext(), sync}, RunOptions{
		TmpDir:  tmp,
		Env:     []string{"CUSTOM=yes", "SEEN=" + out},
		Inputs:  map[string][]byte{"VALUES_PATH": []byte(`{"global":{}}`)},
		Outputs: []string{"VALUES_JSON_PATCH_PATH"},
		Logger:  jsonLogger(&logs),

		ProxyJSONLogs: true,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	seen, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"pwd=" + filepath.Dir(path), "args=0", "custom=yes", "binding=onStartup",
		`objects=[{"object":` + podA + `}]`, `values={"global":{}}`,
		"METRICS_PATH=empty-file", "KUBERNETES_PATCH_PATH=empty-file", "VALIDATING_RESPONSE_PATH=empty-file",
		"CONVERSION_RESPONSE_PATH=empty-file", "VALUES_JSON_PATCH_PATH=empty-file", "admission=same",
	} {
		if !strings.Contains(string(seen), want+"\n") {
			t.Errorf("hook saw:\n%s\nmissing %q", seen, want)
		}
	}
	if string(res.Metrics) != `{"name":"m","action":"set","value":1}`+"\n" {
		t.Errorf("metrics = %q", res.Metrics)
	}
	if string(res.KubernetesPatch) != `{"operation":"Delete","kind":"Pod","name":"x"}`+"\n" {
		t.Errorf("patch = %q", res.KubernetesPatch)
	}
	if string(res.Outputs["VALUES_JSON_PATCH_PATH"]) != `[{"op":"add","path":"/a","value":1}]`+"\n" {
		t.Errorf("outputs = %q", res.Outputs)
	}
	if res.ExitCode != 0 || res.MaxRSSBytes <= 0 {
		t.Errorf("exit %d rss %d", res.ExitCode, res.MaxRSSBytes)
	}
	for _, want := range []string{
		`"msg":"hello from stdout","hook":"sub/hook.sh","output":"stdout"`,
		`"msg":"warn from stderr","hook":"sub/hook.sh","output":"stderr"`,
		`"msg":"no newline at end","hook":"sub/hook.sh","output":"stdout"`,
		`"level":"WARN","msg":"structured","hook":"sub/hook.sh","fields":{"count":2},"output":"stdout"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs:\n%s\nmissing %s", logs.String(), want)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("run directory not removed: %v", left)
	}
}

func TestRunV0ContextAndKeepFiles(t *testing.T) {
	dir := t.TempDir()
	path := writeScript(t, dir, "v0.sh", `cat "$BINDING_CONTEXT_PATH" > "$(dirname "$BINDING_CONTEXT_PATH")/copy.json"`)
	h := &Hook{Name: "v0.sh", Path: path, Config: Config{Version: ConfigV0}}
	ev := KubernetesBinding{Name: "onKubernetesEvent"}.EventContext(WatchEventAdded, &ObjectAndFilterResult{Object: json.RawMessage(podA)})
	tmp := t.TempDir()
	if _, err := Run(context.Background(), h, []BindingContext{ev}, RunOptions{TmpDir: tmp, KeepFiles: true, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(tmp, "hook-v0.sh-*", "copy.json"))
	if len(matches) != 1 {
		t.Fatalf("kept files: %v", matches)
	}
	got, _ := os.ReadFile(matches[0])
	want := `[{"binding":"onKubernetesEvent","resourceEvent":"add","resourceKind":"Pod","resourceName":"a","resourceNamespace":"ns1"}]` + "\n"
	if string(got) != want {
		t.Errorf("v0 context = %s", got)
	}
}

func TestRunFailure(t *testing.T) {
	dir := t.TempDir()
	path := writeScript(t, dir, "fail.sh", `
for i in $(seq 1 15); do echo "line $i" >&2; done
echo '{"operation":"Delete","kind":"Pod","name":"x"}' > "$KUBERNETES_PATCH_PATH"
exit 3
`)
	h := &Hook{Name: "fail.sh", Path: path, Config: Config{Version: ConfigV1}}
	res, err := Run(context.Background(), h, []BindingContext{OnStartupContext()}, RunOptions{TmpDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("want *RunError, got %v", err)
	}
	if re.ExitCode != 3 || re.Hook != "fail.sh" || len(re.Stderr) != stderrTailLines || re.Stderr[len(re.Stderr)-1] != "line 15" {
		t.Errorf("RunError = %+v", re)
	}
	if !strings.Contains(err.Error(), "hook fail.sh failed: exit status 3") || !strings.Contains(err.Error(), "line 15") || strings.Contains(err.Error(), "line 5\n") {
		t.Errorf("message: %v", err)
	}
	if res == nil || !strings.Contains(string(res.KubernetesPatch), "Delete") {
		t.Errorf("patch of a failed hook must still be returned: %+v", res)
	}
}

func TestRunCancelKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	path := writeScript(t, dir, "slow.sh", `
sleep 300 &
echo $! > "`+pidFile+`"
echo started
wait
`)
	h := &Hook{Name: "slow.sh", Path: path, Config: Config{Version: ConfigV1}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, h, nil, RunOptions{TmpDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
		done <- err
	}()
	var childPID string
	for deadline := time.Now().Add(30 * time.Second); childPID == ""; {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("hook did not write %s within 30s (run: %v)", pidFile, <-done)
		}
		b, _ := os.ReadFile(pidFile)
		childPID = strings.TrimSpace(string(b))
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	// The backgrounded child was in the hook's process group: it must be gone.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatalf("child %s of the cancelled hook is still running", childPID)
		}
		if _, err := os.Stat("/proc/" + childPID); os.IsNotExist(err) {
			break
		}
		stat, _ := os.ReadFile("/proc/" + childPID + "/stat")
		if fields := strings.Fields(string(stat)); len(fields) > 2 && fields[2] == "Z" {
			break // killed, waiting to be reaped by init
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSafeName(t *testing.T) {
	if got := safeName("002-pods/hook name.sh"); got != "002-pods-hook-name.sh" {
		t.Errorf("safeName = %q", got)
	}
}

func TestRunBackgroundChildKeepingOutputOpen(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "bg.pid")
	path := writeScript(t, dir, "bg.sh", `
sleep 300 &
echo $! > "`+pidFile+`"
echo '{"name":"m","action":"set","value":1}' > "$METRICS_PATH"
exit 0
`)
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	h := &Hook{Name: "bg.sh", Path: path, Config: Config{Version: ConfigV1}}
	var logs syncBuffer
	res, err := Run(context.Background(), h, nil, RunOptions{TmpDir: t.TempDir(), OutputWait: 100 * time.Millisecond, Logger: jsonLogger(&logs)})
	if err != nil {
		t.Fatalf("a hook that exited 0 must succeed: %v", err)
	}
	if !strings.Contains(string(res.Metrics), `"name":"m"`) {
		t.Errorf("metrics = %q", res.Metrics)
	}
	if !strings.Contains(logs.String(), "background process kept its output open") {
		t.Errorf("no warning in logs:\n%s", logs.String())
	}
	testenv.WaitProcessesGone(t, 10*time.Second, "the background process of a finished hook gone", readPIDs(t, pidFile, 1))
}

// Without ProxyJSONLogs (LOG_PROXY_HOOK_JSON unset) a JSON line is logged
// verbatim, as shell-operator does by default.
func TestJSONOutputVerbatimByDefault(t *testing.T) {
	path := writeScript(t, t.TempDir(), "j.sh", `echo '{"level":"error","msg":"looks structured"}'`)
	var logs syncBuffer
	h := &Hook{Name: "j.sh", Path: path, Config: Config{Version: ConfigV1}}
	if _, err := Run(context.Background(), h, nil, RunOptions{TmpDir: t.TempDir(), Logger: jsonLogger(&logs)}); err != nil {
		t.Fatal(err)
	}
	want := `"level":"INFO","msg":"{\"level\":\"error\",\"msg\":\"looks structured\"}","hook":"j.sh","output":"stdout"`
	if !strings.Contains(logs.String(), want) {
		t.Fatalf("logs:\n%s\nmissing %s", logs.String(), want)
	}
}
