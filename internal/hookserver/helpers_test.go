package hookserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// hookScript is a real bash hook: it prints config on --config and otherwise
// runs body with set -euo pipefail. $OUT_DIR is the test's record directory.
func writeHook(t *testing.T, dir, name, config, body string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/usr/bin/env bash\nset -euo pipefail\nif [[ \"${1:-}\" == \"--config\" ]]; then\ncat <<'DECKHAND_CONFIG'\n" +
		config + "\nDECKHAND_CONFIG\nexit 0\nfi\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// recordBody appends the run's binding context (one JSON array per line) to
// $OUT_DIR/<file>.
func recordBody(file string) string {
	return fmt.Sprintf(`jq -c . "$BINDING_CONTEXT_PATH" >> "$OUT_DIR/%s"`, file)
}

type testServer struct {
	*Server
	addr      string
	debugAddr string
	outDir    string
	cancel    context.CancelFunc
	done      chan error
}

type serverOpt func(*Options)

// startServer runs a Server until the test ends, on the shared control
// plane unless an option sets RestConfig.
func startServer(t *testing.T, hooksDir string, opts ...serverOpt) *testServer {
	t.Helper()
	outDir := t.TempDir()
	o := Options{
		HooksDir:      hooksDir,
		ListenAddress: "127.0.0.1:0",
		DebugAddress:  "127.0.0.1:0",
		TempDir:       t.TempDir(),
		Logger:        slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Backoff:       func(int) time.Duration { return 300 * time.Millisecond },
		Env:           []string{"OUT_DIR=" + outDir},
	}
	for _, f := range opts {
		f(&o)
	}
	if o.RestConfig == nil {
		o.RestConfig = testenv.ControlPlane(t).Config
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	debugAddr, err := s.ListenDebug()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: s, addr: addr.String(), debugAddr: debugAddr.String(), outDir: outDir, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- s.Run(ctx) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// stop cancels the server and waits for Run to return.
func (ts *testServer) stop(t *testing.T) {
	ts.cancel()
	select {
	case err := <-ts.done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
		ts.done <- nil // later stops return at once
	case <-time.After(60 * time.Second):
		t.Errorf("server did not stop")
	}
}

// runs reads the binding contexts recorded in file: one list per run.
func (ts *testServer) runs(t *testing.T, file string) [][]map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(ts.outDir, file))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out [][]map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var run []map[string]any
		if err := json.Unmarshal(sc.Bytes(), &run); err != nil {
			t.Fatalf("record %s: %v: %s", file, err, sc.Text())
		}
		out = append(out, run)
	}
	return out
}

// contexts flattens the recorded runs into one list of binding contexts,
// with every full "object" reduced to "namespace/name" so expectations stay
// readable.
func (ts *testServer) contexts(t *testing.T, file string) []map[string]any {
	var out []map[string]any
	for _, run := range ts.runs(t, file) {
		for _, bc := range run {
			out = append(out, normalize(bc).(map[string]any))
		}
	}
	return out
}

func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if k == "object" {
				if obj, ok := val.(map[string]any); ok {
					md, _ := obj["metadata"].(map[string]any)
					ns, _ := md["namespace"].(string)
					name, _ := md["name"].(string)
					out[k] = ns + "/" + name
					continue
				}
			}
			out[k] = normalize(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// jsonEqual compares got with the expected JSON text.
func jsonEqual(t *testing.T, got any, want string) (bool, string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	gb, _ := json.Marshal(got)
	var g any
	_ = json.Unmarshal(gb, &g)
	wb, _ := json.Marshal(w)
	gb, _ = json.Marshal(g)
	return string(gb) == string(wb), string(gb)
}

// waitContexts waits until the flattened contexts recorded in file equal want.
func (ts *testServer) waitContexts(t *testing.T, file, what, want string) {
	t.Helper()
	testenv.WaitFor(t, 60*time.Second, what, func() (bool, string) {
		return jsonEqual(t, ts.contexts(t, file), want)
	})
}

// get reads path from the debug address for /debug/..., from the main
// address otherwise.
func (ts *testServer) get(t *testing.T, path string) (int, string) {
	t.Helper()
	addr := ts.addr
	if strings.HasPrefix(path, "/debug/") {
		addr = ts.debugAddr
	}
	return getURL(t, "http://"+addr+path)
}

func getURL(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (ts *testServer) waitReady(t *testing.T) {
	t.Helper()
	testenv.WaitFor(t, 60*time.Second, "readyz", func() (bool, string) {
		code, body := ts.get(t, "/readyz")
		return code == http.StatusOK, body
	})
}

// testWriter sends logs to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
