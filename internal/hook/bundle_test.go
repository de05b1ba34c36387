package hook

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// bundleScript is a shell stand-in for a module-sdk binary: it answers
// `hook list` and `hook config`, and `hook run N` records what it got.
func bundleScript(list, config string) string {
	return `if [ "$1" = "hook" ] && [ "$2" = "list" ]; then printf '%s\n' '` + list + `'; exit 0; fi
if [ "$1" = "hook" ] && [ "$2" = "config" ]; then cat <<'CFG'
` + config + `
CFG
exit 0; fi
if [ "$1" = "hook" ] && [ "$2" = "run" ]; then
  {
    echo "args=$*"
    echo "module=${MODULE_NAME-unset} app=${APPLICATION_NAME-unset} ns=${APPLICATION_NAMESPACE-unset}"
    echo "binding=$(jq -r '.[0].binding' "$BINDING_CONTEXT_PATH")"
  } > "$SEEN"
  echo '[{"op":"add","path":"/x/internal/run","value":'"$3"'}]' > "$VALUES_JSON_PATCH_PATH"
  exit 0
fi
echo "unexpected args: $*" >&2; exit 1
`
}

const twoHooks = `{"version":"v1","hooks":[
 {"configVersion":"v1","metadata":{"name":"startup","path":"hooks/startup"},"onStartup":1,"beforeHelm":5},
 {"configVersion":"v1","metadata":{"name":"pods","path":"hooks/pods"},"kubernetes":[{"name":"pods","kind":"Pod","jqFilter":".metadata.name","keepFullObjectsInMemory":false}],"allowFailure":true}]}`

func TestDiscoverBundles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "hooks")
	writeScript(t, dir, "010-bundle", bundleScript("Found 2 items:", twoHooks))
	writeScript(t, dir, "020-plain", configScript("configVersion: v1\nonStartup: 2")+`echo "Found 3 items" >&2; exit 1`)
	writeScript(t, dir, "030-bad-bundle", bundleScript("Found 1 items:", `{"version":"v1","hooks":[{"metadata":{"name":"a"},"kubernetes":[{"name":"a"}]}]}`))
	writeScript(t, dir, "040-crash-bundle", `if [ "$2" = "list" ]; then echo "Found 1 items"; exit 0; fi; echo "panic: no config" >&2; exit 2`)
	writeScript(t, dir, "050-list.sh", configScript("configVersion: v1\nonStartup: 3")+bundleScript("Found 1 items:", twoHooks))
	writeScript(t, dir, "060-zero", configScript("configVersion: v1\nonStartup: 4")+bundleScript("Found 0 items:", `{"version":"v1","hooks":[]}`))
	writeScript(t, dir, "070-mismatch", bundleScript("Found 3 items:", twoHooks))
	writeScript(t, dir, "venv/bin/python3", bundleScript("Found 1 items:", twoHooks))

	var logs syncBuffer
	hooks, hookErrs, err := Discover(context.Background(), dir, DiscoverOptions{Kind: KindModule, Logger: jsonLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hooks {
		names = append(names, h.Name)
	}
	// The .sh file is never probed, "Found 0 items" is not a bundle.
	want := []string{"010-bundle:startup:0", "010-bundle:pods:1", "020-plain", "050-list.sh", "060-zero",
		"070-mismatch:startup:0", "070-mismatch:pods:1"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("hooks = %v, want %v", names, want)
	}
	if len(hooks) == len(want) {
		startup, pods := hooks[0], hooks[1]
		if !reflect.DeepEqual(startup.Args, []string{"hook", "run", "0"}) || !reflect.DeepEqual(pods.Args, []string{"hook", "run", "1"}) ||
			startup.Path != pods.Path || filepath.Base(startup.Path) != "010-bundle" {
			t.Errorf("bundle hooks: %+v %+v", startup, pods)
		}
		if startup.Batch == nil || startup.Batch.Name != "startup" || startup.Batch.Index != 0 ||
			*startup.Config.OnStartup != 1 || startup.Config.Lifecycle[BindingBeforeHelm] != 5 {
			t.Errorf("startup = %+v batch %+v", startup.Config, startup.Batch)
		}
		if pods.Batch == nil || !pods.Batch.AllowFailure || len(pods.Config.Kubernetes) != 1 || pods.Config.Kubernetes[0].Group != "main" {
			t.Errorf("pods = %+v batch %+v", pods.Config, pods.Batch)
		}
		if hooks[2].Batch != nil || hooks[2].Args != nil || *hooks[2].Config.OnStartup != 2 {
			t.Errorf("plain hook = %+v", hooks[2])
		}
	}
	if len(hookErrs) != 2 {
		t.Fatalf("hook errors = %v", hookErrs)
	}
	if got := hookErrs[0].Error(); got != "hooks/030-bad-bundle: hooks[0].kubernetes[0].kind: required" {
		t.Errorf("bad bundle: %s", got)
	}
	if got := hookErrs[1].Error(); !strings.HasPrefix(got, "hooks/040-crash-bundle: running hook config: exit status 2: panic: no config") {
		t.Errorf("crashing bundle: %s", got)
	}
	var he *HookError
	if !errors.As(hookErrs[0], &he) || he.Hook != "hooks/030-bad-bundle" {
		t.Errorf("not a *HookError: %#v", hookErrs[0])
	}
	if got := logs.String(); strings.Count(got, "lists a different number") != 1 || !strings.Contains(got, `"hook":"hooks/070-mismatch","listed":3,"configured":2`) {
		t.Errorf("mismatch warnings: %s", got)
	}

	// shell-operator hooks are never probed: the bundle fails its --config.
	hooks, hookErrs, err = Discover(context.Background(), dir, DiscoverOptions{ExcludeDirs: []string{"venv"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hooks {
		if h.Batch != nil || strings.Contains(h.Name, ":") {
			t.Errorf("shell-operator discovery expanded a bundle: %s", h.Name)
		}
	}
	if len(hookErrs) == 0 || !strings.Contains(errors.Join(hookErrs...).Error(), "hooks/010-bundle: running --config") {
		t.Errorf("hook errors = %v", hookErrs)
	}
}

func TestRunBundleHook(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "hooks")
	path := writeScript(t, dir, "bundle", bundleScript("Found 2 items:", twoHooks))
	hooks, err := LoadHooks(context.Background(), dir, path, "bundle", "hooks/bundle", DiscoverOptions{Kind: KindModule})
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 2 {
		t.Fatalf("hooks = %v", hooks)
	}
	for _, tc := range []struct {
		hook int
		opts RunOptions
		want string
	}{
		{0, RunOptions{ModuleName: "my-module"}, "args=hook run 0\nmodule=my-module app=unset ns=unset\nbinding=onStartup\n"},
		{1, RunOptions{ModuleName: "ns.app", ApplicationName: "app", ApplicationNamespace: "ns"}, "args=hook run 1\nmodule=ns.app app=app ns=ns\nbinding=onStartup\n"},
	} {
		seen := filepath.Join(root, "seen")
		tc.opts.Env = []string{"SEEN=" + seen}
		tc.opts.Outputs = []string{"VALUES_JSON_PATCH_PATH"}
		res, err := Run(context.Background(), hooks[tc.hook], []BindingContext{OnStartupContext()}, tc.opts)
		if err != nil {
			t.Fatalf("hook %d: %v", tc.hook, err)
		}
		got, err := os.ReadFile(seen)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("hook %d saw:\n%s\nwant:\n%s", tc.hook, got, tc.want)
		}
		if want := `[{"op":"add","path":"/x/internal/run","value":` + string(rune('0'+tc.hook)) + `}]` + "\n"; string(res.Outputs["VALUES_JSON_PATCH_PATH"]) != want {
			t.Errorf("hook %d patch = %q", tc.hook, res.Outputs["VALUES_JSON_PATCH_PATH"])
		}
	}

	// A shell hook is not told about its module: only bundles are.
	seen := filepath.Join(root, "seen-shell")
	shell := writeScript(t, dir, "plain.sh", `echo "module=${MODULE_NAME-unset} args=$#" > "$SEEN"`)
	if _, err := Run(context.Background(), &Hook{Name: "plain.sh", Path: shell}, nil, RunOptions{ModuleName: "m", Env: []string{"SEEN=" + seen}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(seen); string(got) != "module=unset args=0\n" {
		t.Errorf("shell hook saw %q", got)
	}
}

// TestGoHookExample builds examples/modules/go-hook's batch binary into a
// hooks dir and drives it through discovery and two runs.
func TestGoHookExample(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain on PATH")
	}
	dir := filepath.Join(t.TempDir(), "hooks")
	bin := filepath.Join(dir, "batch")
	build := exec.Command(goBin, "build", "-o", bin, "../../examples/modules/go-hook/batch")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example: %v\n%s", err, out)
	}

	hooks, hookErrs, err := Discover(context.Background(), dir, DiscoverOptions{Kind: KindModule})
	if err != nil || len(hookErrs) != 0 {
		t.Fatalf("discover: %v %v", err, hookErrs)
	}
	if len(hooks) != 2 || hooks[0].Name != "batch:startup:0" || hooks[1].Name != "batch:configmaps:1" {
		t.Fatalf("hooks = %+v", hooks)
	}
	startup, cms := hooks[0], hooks[1]
	if *startup.Config.OnStartup != 1 || startup.Config.Lifecycle[BindingBeforeHelm] != 10 {
		t.Errorf("startup config = %+v", startup.Config)
	}
	if len(cms.Config.Kubernetes) != 1 {
		t.Fatalf("configmaps config = %+v", cms.Config)
	}
	kb := cms.Config.Kubernetes[0]
	if kb.Name != "configmaps" || kb.Watch.Kind != "ConfigMap" || kb.Watch.JqFilter != "{name: .metadata.name}" ||
		kb.Watch.KeepFullObjectsInMemory || kb.Group != "main" || !reflect.DeepEqual(kb.Watch.Namespace.MatchNames, []string{"d8-go-hook"}) {
		t.Errorf("configmaps binding = %+v", kb)
	}

	opts := RunOptions{
		ModuleName: "go-hook",
		Inputs:     map[string][]byte{"VALUES_PATH": []byte(`{"global":{},"goHook":{"internal":{}}}`)},
		Outputs:    []string{"VALUES_JSON_PATCH_PATH"},
	}
	res, err := Run(context.Background(), startup, []BindingContext{OnStartupContext()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "startup patch", res.Outputs["VALUES_JSON_PATCH_PATH"],
		`[{"op":"add","path":"/goHook/internal/greeting","value":"hello from go-hook ([onStartup])"}]`)
	assertJSON(t, "startup metric", res.Metrics, `{"name":"go_hook_greetings_total","action":"add","value":1,"labels":{"hook":"startup"}}`)

	// A Synchronization of the grouped binding: the snapshot carries the
	// filter results.
	sync := kb.SynchronizationContext("m")
	sync.Snapshots = map[string][]ObjectAndFilterResult{"configmaps": {
		{FilterResult: json.RawMessage(`{"name":"b"}`), Filtered: true},
		{FilterResult: json.RawMessage(`{"name":"a"}`), Filtered: true},
	}}
	opts.Inputs = map[string][]byte{"VALUES_PATH": []byte(`{"global":{}}`)}
	res, err = Run(context.Background(), cms, []BindingContext{sync}, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "configmaps patch", res.Outputs["VALUES_JSON_PATCH_PATH"], `[
		{"op":"add","path":"/goHook","value":{}},
		{"op":"add","path":"/goHook/internal","value":{}},
		{"op":"add","path":"/goHook/internal/configMaps","value":["a","b"]}]`)
	assertJSON(t, "configmaps metric", res.Metrics, `{"name":"go_hook_configmaps","action":"set","value":2}`)

	// An index the binary does not have fails the run with its message.
	bad := *cms
	bad.Args = []string{"hook", "run", "7"}
	_, err = Run(context.Background(), &bad, nil, RunOptions{Logger: jsonLogger(&syncBuffer{})})
	var re *RunError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), `hook index "7" does not exist`) {
		t.Errorf("err = %v", err)
	}
}

func assertJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: %q: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func TestPythonVenv(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hooks")
	if got := PythonVenv(dir); got != "" {
		t.Errorf("no venv: %q", got)
	}
	if err := os.MkdirAll(filepath.Join(dir, "venv", "bin", "python3"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := PythonVenv(dir); got != "" {
		t.Errorf("python3 is a directory: %q", got)
	}
	if err := os.Remove(filepath.Join(dir, "venv", "bin", "python3")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "venv", "bin", "python3"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := PythonVenv(dir); got != "" {
		t.Errorf("python3 not executable: %q", got)
	}

	if err := os.Remove(filepath.Join(dir, "venv", "bin", "python3")); err != nil {
		t.Fatal(err)
	}
	// A fake interpreter: it runs the script it is given with bash and
	// reports its PYTHONHOME.
	writeScript(t, dir, "venv/bin/python3", `script="$1"; shift; export FAKE_PYTHON=yes; exec bash "$script" "$@"`)
	if got := PythonVenv(dir); got != filepath.Join(dir, "venv") {
		t.Errorf("venv = %q", got)
	}
	py := writeScript(t, dir, "sub/hook.py", `if [ "$1" = "--config" ]; then
  [ "$FAKE_PYTHON" = yes ] && [ "$PYTHONHOME" = "$VENV" ] || { echo "--config not run by the venv: $FAKE_PYTHON $PYTHONHOME" >&2; exit 1; }
  echo '{"configVersion":"v1","onStartup":1}'; exit 0
fi
echo "python=${FAKE_PYTHON-no} home=${PYTHONHOME-unset} args=$#" > "$SEEN"
`)
	seen := filepath.Join(t.TempDir(), "seen")
	env := []string{"VENV=" + filepath.Join(dir, "venv"), "SEEN=" + seen}

	hooks, hookErrs, err := Discover(context.Background(), dir, DiscoverOptions{Kind: KindModule, Env: env})
	if err != nil || len(hookErrs) != 0 {
		t.Fatalf("discover: %v %v", err, hookErrs)
	}
	// venv is not searched for hooks in a module even without ExcludeDirs.
	if len(hooks) != 1 || hooks[0].Name != "sub/hook.py" {
		t.Fatalf("hooks = %+v", hooks)
	}
	h := hooks[0]
	if h.Interpreter != filepath.Join(dir, "venv", "bin", "python3") || h.Path != py ||
		!reflect.DeepEqual(h.Env, []string{"PYTHONHOME=" + filepath.Join(dir, "venv")}) {
		t.Errorf("hook = %+v", h)
	}
	if _, err := Run(context.Background(), h, []BindingContext{OnStartupContext()}, RunOptions{Env: env}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(seen); string(got) != "python=yes home="+filepath.Join(dir, "venv")+" args=0\n" {
		t.Errorf("run saw %q", got)
	}

	// shell-operator hooks run *.py files themselves.
	plain, err := LoadHook(context.Background(), dir, py, "sub/hook.py", "hooks/sub/hook.py", DiscoverOptions{Env: env})
	if err == nil || plain != nil || !strings.Contains(err.Error(), "--config not run by the venv") {
		t.Errorf("shell-operator hook: %+v %v", plain, err)
	}
}
