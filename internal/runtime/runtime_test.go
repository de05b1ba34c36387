package runtime

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// chartModule is a module whose chart renders one ConfigMap named after the
// module with the given data lines.
func chartModule(name string, weight int, data string) map[string]string {
	return map[string]string{
		name + "/module.yaml": fmt.Sprintf("name: %s\nweight: %d\n", name, weight),
		name + "/Chart.yaml":  fmt.Sprintf("apiVersion: v2\nname: %s\nversion: 0.1.0\n", name),
		name + "/templates/cm.yaml": fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: {{ .Release.Namespace }}
data:
%s
`, name, data),
	}
}

func mergeFiles(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// kubeHook is a shell hook with a kubernetes binding on labelled ConfigMaps
// of ns that runs body.
func kubeHook(ns, label, extra, body string) string {
	return `#!/bin/bash
if [[ "$1" == "--config" ]]; then cat <<'CFG'
configVersion: v1
kubernetes:
- name: cms
  apiVersion: v1
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: ["` + ns + `"]}}
  labelSelector: {matchLabels: {` + label + `: "yes"}}
  jqFilter: .metadata.name
  includeSnapshotsFrom: ["cms"]
` + extra + `CFG
exit 0; fi
` + body
}

// The main path: a plain chart, a module whose hook watches ConfigMaps and
// feeds its template through a values patch, and a failing module that does
// not stop the others.
func TestModulesConverge(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, mergeFiles(
		chartModule("cv-plain", 100, `  hello: "world"`),
		map[string]string{
			"cv-plain/crds/gadget.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.cv.example.io}
spec:
  group: cv.example.io
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
			"cv-plain/templates/gadget.yaml": "apiVersion: cv.example.io/v1\nkind: Gadget\nmetadata: {name: g1, namespace: {{ .Release.Namespace }}}\nspec: {size: 3}\n",
		},
		chartModule("cv-watch", 200, `  names: {{ .Values.cvWatch.internal.names | join "," | quote }}`),
		map[string]string{
			"cv-watch/openapi/values.yaml": "type: object\nproperties:\n  internal:\n    type: object\n    default: {}\n    properties:\n      names: {type: array, default: [], items: {type: string}}\n",
			"cv-watch/hooks/watch.sh": kubeHook(e.ns, "watch-me", "", `names=$(jq -c '[.[-1].snapshots.cms[].filterResult] | sort' "$BINDING_CONTEXT_PATH")
echo "[{\"op\":\"add\",\"path\":\"/cvWatch/internal/names\",\"value\":$names}]" > "$VALUES_JSON_PATCH_PATH"
`),
		},
		chartModule("cv-broken", 50, `  never: "rendered"`),
		map[string]string{"cv-broken/hooks/fail.sh": "#!/bin/bash\nif [[ \"$1\" == \"--config\" ]]; then echo '{\"configVersion\":\"v1\",\"beforeHelm\":1}'; exit 0; fi\necho 'cannot reach the backend' >&2\nexit 3\n"},
		chartModule("cv-tpl", 150, `  bad: {{ .Values.cvTpl.nothing.here }}`),
		map[string]string{"cv-unloadable/module.yaml": "name: [not, a, name\n"},
		map[string]string{"values.yaml": "cvPlainEnabled: true\ncvWatchEnabled: true\ncvBrokenEnabled: true\ncvTplEnabled: true\n"},
	))
	e.start(t, dir)

	e.waitConfigMap(t, "cv-plain", func(d map[string]string) bool { return d["hello"] == "world" })
	e.waitConfigMap(t, "cv-watch", func(d map[string]string) bool { return d["names"] == "" })
	st := e.waitModule(t, "cv-broken", func(st map[string]any) bool {
		le, _ := st["lastError"].(map[string]any)
		return st["phase"] == "Error" && le != nil && strings.Contains(fmt.Sprint(le["hook"]), "fail.sh") && strings.Contains(fmt.Sprint(le["message"]), "cannot reach the backend")
	})
	t.Logf("broken module status: %v", st)
	e.waitModule(t, "cv-plain", phaseIs("Ready"))
	// The module's CRD was applied before its chart, whose custom object exists.
	gadgets := schema.GroupVersionResource{Group: "cv.example.io", Version: "v1", Resource: "gadgets"}
	if _, err := e.dyn.Resource(gadgets).Namespace(e.ns).Get(context.Background(), "g1", metav1.GetOptions{}); err != nil {
		t.Fatalf("custom object of the chart: %v", err)
	}
	e.waitModule(t, "cv-tpl", func(st map[string]any) bool {
		le, _ := st["lastError"].(map[string]any)
		return st["phase"] == "Error" && le != nil && strings.Contains(fmt.Sprint(le["template"]), "templates/cm.yaml")
	})
	e.waitModule(t, "cv-unloadable", func(st map[string]any) bool {
		le, _ := st["lastError"].(map[string]any)
		return st["phase"] == "Error" && le != nil && strings.Contains(fmt.Sprint(le["message"]), "module.yaml")
	})
	if d := e.configMapData("cv-broken"); d != nil {
		t.Fatalf("the failing module's chart was installed: %v", d)
	}

	// A watched change flows through the hook into an upgraded release.
	for _, n := range []string{"b-watched", "a-watched"} {
		_, err := e.kube.CoreV1().ConfigMaps(e.ns).Create(context.Background(), &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"watch-me": "yes"}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.waitConfigMap(t, "cv-watch", func(d map[string]string) bool { return d["names"] == "a-watched,b-watched" })
	st = e.waitModule(t, "cv-watch", func(st map[string]any) bool {
		rev, _ := st["releaseRevision"].(int64)
		return st["phase"] == "Ready" && rev >= 2
	})

	// A deleted object of a release is put back by the next reconcile (here
	// triggered by a ModuleConfig that only restates the module's state).
	if err := e.kube.CoreV1().ConfigMaps(e.ns).Delete(context.Background(), "cv-plain", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.applyModuleConfig(t, "cv-plain", map[string]any{"enabled": true, "version": 1, "settings": map[string]any{"unused": true}})
	e.waitConfigMap(t, "cv-plain", func(d map[string]string) bool { return d["hello"] == "world" })
}

// Disabling through ModuleConfig and through the ConfigMap removes every
// resource, also right after the enable.
func TestDisableRemovesResources(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, mergeFiles(
		chartModule("dis-mc", 100, `  a: "1"`),
		chartModule("dis-cm", 100, `  b: "2"`),
	))
	e.applyModuleConfig(t, "dis-mc", map[string]any{"enabled": true})
	e.setConfigMap(t, map[string]string{"disCmEnabled": "true"})
	e.start(t, dir)
	e.waitConfigMap(t, "dis-mc", func(map[string]string) bool { return true })
	e.waitConfigMap(t, "dis-cm", func(map[string]string) bool { return true })

	e.applyModuleConfig(t, "dis-mc", map[string]any{"enabled": false})
	e.setConfigMap(t, map[string]string{"disCmEnabled": "false"})
	e.waitGone(t, "dis-mc")
	e.waitGone(t, "dis-cm")
	e.waitModule(t, "dis-mc", phaseIs("Available"))

	// Enable and disable again at once: the end state is the one asked for.
	e.applyModuleConfig(t, "dis-mc", map[string]any{"enabled": true})
	e.setConfigMap(t, map[string]string{"disCmEnabled": "true"})
	e.waitConfigMap(t, "dis-cm", func(map[string]string) bool { return true })
	e.applyModuleConfig(t, "dis-mc", map[string]any{"enabled": false})
	e.setConfigMap(t, map[string]string{"disCmEnabled": "false"})
	e.waitGone(t, "dis-cm")
	e.waitModule(t, "dis-cm", phaseIs("Available"))
	e.waitModule(t, "dis-mc", phaseIs("Available"))
	e.waitGone(t, "dis-mc")
	e.waitGone(t, "dis-cm")
}

// Settings that break the schema and a hook patch that breaks it are refused
// with the path and the rule named, and nothing changes.
func TestBadSettingsAndPatchChangeNothing(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, mergeFiles(
		chartModule("bad-set", 100, `  replicas: {{ .Values.badSet.replicas | quote }}`),
		map[string]string{
			"bad-set/openapi/config-values.yaml": "type: object\nproperties:\n  replicas: {type: integer, default: 1, minimum: 1, maximum: 3}\n",
			"bad-set/openapi/values.yaml":        "x-extend: {schema: config-values.yaml}\ntype: object\nproperties:\n  internal:\n    type: object\n    default: {}\n    properties:\n      count: {type: integer}\n",
			"bad-set/hooks/patch.sh": kubeHook(e.ns, "bad-patch", "  executeHookOnSynchronization: false\n",
				`echo '[{"op":"add","path":"/badSet/internal/count","value":"not a number"}]' > "$VALUES_JSON_PATCH_PATH"
`),
		},
	))
	e.applyModuleConfig(t, "bad-set", map[string]any{"enabled": true, "version": 1, "settings": map[string]any{"replicas": 2}})
	e.start(t, dir)
	e.waitConfigMap(t, "bad-set", func(d map[string]string) bool { return d["replicas"] == "2" })
	before := e.waitModule(t, "bad-set", phaseIs("Ready"))["valuesChecksum"]

	e.applyModuleConfig(t, "bad-set", map[string]any{"enabled": true, "version": 1, "settings": map[string]any{"replicas": 10}})
	testenv.WaitFor(t, 60*time.Second, "ModuleConfig status names the bad setting", func() (bool, string) {
		u, err := e.dyn.Resource(ModuleConfigGVR).Get(context.Background(), "bad-set", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		msg := fmt.Sprint(u.Object["status"])
		return strings.Contains(msg, "replicas") && strings.Contains(msg, "3"), msg
	})
	if d := e.configMapData("bad-set"); d["replicas"] != "2" {
		t.Fatalf("refused settings changed the release: %v", d)
	}
	testenv.WaitFor(t, 30*time.Second, "a Warning event on the ModuleConfig", func() (bool, string) {
		evs, err := e.kube.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=bad-set"})
		if err != nil || len(evs.Items) == 0 {
			return false, fmt.Sprint(err)
		}
		return evs.Items[0].Reason == "SettingsRefused" && strings.Contains(evs.Items[0].Message, "replicas"), evs.Items[0].Message
	})

	if _, err := e.kube.CoreV1().ConfigMaps(e.ns).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "trigger", Labels: map[string]string{"bad-patch": "yes"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	st := e.waitModule(t, "bad-set", func(st map[string]any) bool {
		le, _ := st["lastError"].(map[string]any)
		msg := fmt.Sprint(le["message"])
		return le != nil && strings.Contains(fmt.Sprint(le["hook"]), "patch.sh") && strings.Contains(msg, "internal.count") && strings.Contains(msg, "integer")
	})
	if st["valuesChecksum"] != before {
		t.Fatalf("values checksum moved from %v to %v after a refused patch", before, st["valuesChecksum"])
	}
	if d := e.configMapData("bad-set"); d["replicas"] != "2" {
		t.Fatalf("release changed: %v", d)
	}
}

// The example modules run unchanged, the Go hook binary among them.
func TestExampleModules(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	src, err := filepath.Abs("../../examples/modules")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-r", src+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copying examples: %v: %s", err, out)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "go-hook/hooks/batch"), "./examples/modules/go-hook/batch")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the Go hook: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("helloWorldEnabled: true\npodReporterEnabled: true\nstaticPageEnabled: true\ngreeterEnabled: true\ngoHookEnabled: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hookMetrics := prometheus.NewRegistry()
	e.start(t, dir, func(o *Options) { o.HookRegistry = hookMetrics })
	for _, m := range []string{"hello-world", "pod-reporter", "static-page", "greeter", "go-hook"} {
		e.waitModule(t, m, phaseIs("Ready"))
	}
	// A module hook's metrics carry its module, as addon-operator labels them.
	testenv.WaitFor(t, 30*time.Second, "pod-reporter's hook metric with a module label", func() (bool, string) {
		families, err := hookMetrics.Gather()
		if err != nil {
			return false, err.Error()
		}
		for _, f := range families {
			if f.GetName() != "pod_reporter_ready_pods" {
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "module" && l.GetValue() == "pod-reporter" {
						return true, ""
					}
				}
			}
			return false, f.String()
		}
		return false, "no pod_reporter_ready_pods yet"
	})
	testenv.WaitFor(t, 60*time.Second, "go-hook's values patch in its ConfigMap", func() (bool, string) {
		cm, err := e.kube.CoreV1().ConfigMaps("d8-go-hook").Get(context.Background(), "go-hook-status", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return cm.Data["greeting"] != "", fmt.Sprint(cm.Data)
	})
	g := e.waitConfigMap(t, "greeter", func(d map[string]string) bool { return d["greeting"] != "" })
	if g["greeting"] != "Hello, world!" {
		t.Fatalf("greeter greeting = %q", g["greeting"])
	}
	// A version-1 setting is converted up to version 2.
	e.applyModuleConfig(t, "greeter", map[string]any{"enabled": true, "version": 1, "settings": map[string]any{"message": "Hi"}})
	e.waitConfigMap(t, "greeter", func(d map[string]string) bool { return d["greeting"] == "Hi, world!" })
}

// Global hooks: onStartup fills global values every module sees, and a
// kubernetes hook turns a module on through a <key>Enabled patch.
func TestGlobalHooks(t *testing.T) {
	e := newEnv(t)
	dir, global := t.TempDir(), t.TempDir()
	testenv.WriteFiles(t, dir, chartModule("gh-mod", 100, `  greeting: {{ .Values.global.greeting | quote }}`))
	testenv.WriteFiles(t, global, map[string]string{
		"openapi/config-values.yaml": "type: object\nproperties: {}\n",
		"openapi/values.yaml":        "type: object\nproperties:\n  greeting: {type: string}\n",
		"hooks/startup.sh":           "#!/bin/bash\nif [[ \"$1\" == \"--config\" ]]; then echo '{\"configVersion\":\"v1\",\"onStartup\":1}'; exit 0; fi\necho '[{\"op\":\"add\",\"path\":\"/global/greeting\",\"value\":\"hi\"}]' > \"$VALUES_JSON_PATCH_PATH\"\n",
		"hooks/toggle.sh": kubeHook(e.ns, "gh-toggle", "", `on=$(jq '[.[-1].snapshots.cms[]] | length > 0' "$BINDING_CONTEXT_PATH")
echo "[{\"op\":\"add\",\"path\":\"/ghModEnabled\",\"value\":$on}]" > "$VALUES_JSON_PATCH_PATH"
`),
	})
	e.start(t, dir, func(o *Options) { o.GlobalHooksDir = global })
	e.waitModule(t, "gh-mod", phaseIs("Available"))
	if d := e.configMapData("gh-mod"); d != nil {
		t.Fatalf("gh-mod ran before the global hook enabled it: %v", d)
	}
	if _, err := e.kube.CoreV1().ConfigMaps(e.ns).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "switch", Labels: map[string]string{"gh-toggle": "yes"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitConfigMap(t, "gh-mod", func(d map[string]string) bool { return d["greeting"] == "hi" })
	st := e.waitModule(t, "gh-mod", phaseIs("Ready"))
	conds := fmt.Sprint(st["conditions"])
	if !strings.Contains(conds, ReasonGlobalHook) {
		t.Fatalf("enabled reason not the global hook: %s", conds)
	}
	// Turned off again by the same hook: the release goes away.
	if err := e.kube.CoreV1().ConfigMaps(e.ns).Delete(context.Background(), "switch", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitGone(t, "gh-mod")
}

// A module disabled while deckhand was down is torn down at the next start:
// its release is found and adopted.
func TestDisabledWhileDown(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, chartModule("down-mod", 100, `  a: "1"`))
	e.applyModuleConfig(t, "down-mod", map[string]any{"enabled": true})
	rt, err := New(Options{ModulesDirs: []string{dir}, Namespace: e.ns, ModuleConfigs: true, RestConfig: e.cfg, ConfigMap: "-"})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := rt.RunOnce(context.Background())
	if err != nil || sum.Failed != 0 {
		t.Fatalf("first run: %+v, %v", sum, err)
	}
	e.waitConfigMap(t, "down-mod", func(map[string]string) bool { return true })
	e.applyModuleConfig(t, "down-mod", map[string]any{"enabled": false})
	e.start(t, dir)
	e.waitGone(t, "down-mod")
}

// A hook that hangs is killed at the hook timeout with its children and
// grandchildren, and its module fails with that reason and is retried; the
// other module of its weight group, in its own lane, converges while the
// hook still hangs. (A heavier module would wait for the group, up to the
// hook timeout or groupWait: weight order is addon-operator's.)
func TestHangingHookIsKilled(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "pids")
	// Each run records four PIDs: a background child, a grandchild (the
	// background process of a background subshell) and the foreground child.
	hang := "#!/bin/bash\nif [[ \"$1\" == \"--config\" ]]; then echo '{\"configVersion\":\"v1\",\"beforeHelm\":1}'; exit 0; fi\n" +
		"sleep 1000 &\necho $! >> " + pidFile + "\n" +
		"bash -c 'sleep 1000 & echo $! >> " + pidFile + "; wait' &\necho $! >> " + pidFile + "\n" +
		"sleep 1000 &\nfg=$!\necho $fg >> " + pidFile + "\nwait $fg\n"
	testenv.WriteFiles(t, dir, mergeFiles(
		chartModule("hang-slow", 100, `  a: "1"`),
		map[string]string{"hang-slow/hooks/sleep.sh": hang},
		chartModule("hang-fine", 100, `  b: "2"`),
		map[string]string{"values.yaml": "hangSlowEnabled: true\nhangFineEnabled: true\n"},
	))
	t.Cleanup(func() {
		for _, pid := range testenv.PIDsIn(pidFile) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	// Long enough for the other module to converge meanwhile.
	const timeout = 30 * time.Second
	e.start(t, dir, func(o *Options) { o.HookTimeout = timeout })
	testenv.WaitFor(t, 60*time.Second, "the hanging hook's processes", func() (bool, string) {
		pids := testenv.PIDsIn(pidFile)
		return len(pids) >= 4, fmt.Sprint(pids)
	})
	first := testenv.PIDsIn(pidFile)[:4]
	e.waitConfigMap(t, "hang-fine", func(map[string]string) bool { return true })
	for _, pid := range first {
		if !testenv.ProcessAlive(pid) {
			t.Fatalf("process %d of the hanging hook ended before the other module converged: it waited for the hook", pid)
		}
	}
	e.waitModule(t, "hang-slow", func(st map[string]any) bool {
		le, _ := st["lastError"].(map[string]any)
		return le != nil && strings.Contains(fmt.Sprint(le["message"]), "killed after the hook timeout of "+timeout.String())
	})
	testenv.WaitProcessesGone(t, 10*time.Second, "the killed run's processes gone", first)
	testenv.WaitFor(t, 60*time.Second, "the module retried", func() (bool, string) {
		pids := testenv.PIDsIn(pidFile)
		return len(pids) >= 8, fmt.Sprint(pids)
	})
}
