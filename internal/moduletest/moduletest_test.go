package moduletest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

const cmObjects = `objects:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: apps, labels: {app: web}}, data: {size: "2"}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: apps, labels: {app: web}}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: apps, labels: {app: db}}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: d, namespace: other, labels: {app: web}}}
  - {apiVersion: v1, kind: Secret, metadata: {name: s1, namespace: apps}}
`

const cmsSyncCase = `hook: cms.sh
binding: cms
` + cmObjects + `expect:
  valuesPatch:
    - {op: add, path: /demo/internal/names, value: [a, b]}
  values:
    greeting: hello
    internal: {names: [a, b]}
  operations:
    - {operation: MergePatch, kind: ConfigMap, namespace: apps, name: summary, mergePatch: {data: {seen: "yes"}}}
  metrics:
    - {name: demo_cms, action: set, value: 2}
  bindingContext:
    - binding: cms
      type: Synchronization
      objects:
        - filterResult: {name: a, size: 0}
        - filterResult: {name: b, size: 2}
      snapshots:
        secrets:
          - object: {apiVersion: v1, kind: Secret, metadata: {name: s1, namespace: apps}}
            filterResult: s1
`

const greetCase = `hook: greet.sh
binding: onStartup
configValues: {greeting: hi}
expect:
  valuesPatch:
    - {op: add, path: /demo/internal/greeting, value: hi!}
  bindingContext: [{binding: onStartup}]
  manifests:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: demo, namespace: d8-demo}
      data: {greeting: hi!}
`

// Hand-written expectations: the kubernetes case proves selectors (label,
// namespace), the jqFilter, snapshot order, includeSnapshotsFrom with full
// objects, and all four outputs; the onStartup case proves settings in
// CONFIG_VALUES_PATH, the values patch and manifests rendered after it.
func TestPassingCases(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"tests/cms/sync.yaml":    cmsSyncCase,
		"tests/greet.yaml":       greetCase,
		"tests/greet-sched.yaml": strings.Replace(strings.Replace(greetCase, "onStartup", "every-minute", 1), "[{binding: onStartup}]", "[{binding: every-minute, type: Schedule}]", 1),
		"tests/cms/modified.yaml": eventCase("Modified",
			`{apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: apps, labels: {app: web}}, data: {size: "7"}}`,
			"[b]", "{name: b, size: 7}"),
		// A Deleted event names the object by reference; the event carries
		// its last state.
		"tests/cms/deleted.yaml": eventCase("Deleted",
			`{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: apps}}`,
			"[a]", "{name: a, size: 0}"),
		"tests/before-helm.yaml": `hook: lifecycle.sh
binding: beforeHelm
objects:
  - {apiVersion: v1, kind: Node, metadata: {name: n2, labels: {zone: b}}}
  - {apiVersion: v1, kind: Node, metadata: {name: n1, labels: {zone: a}}}
expect:
  bindingContext:
    - binding: beforeHelm
      snapshots:
        nodes: [{filterResult: a}, {filterResult: b}]
`,
	})
	rep := runTests(t, dir, Test{})
	for _, c := range rep.Cases {
		if !c.Passed {
			t.Errorf("%s failed: %s\n%s\n%s", c.File, c.Error, c.Diff, strings.Join(c.Output, "\n"))
		}
	}
	if rep.Passed != 6 || rep.Failed != 0 {
		t.Fatalf("want 6 passed, got %d passed and %d failed", rep.Passed, rep.Failed)
	}
}

// eventCase is a cms.sh case for one event on object: the hook puts names
// into values and the event context carries filterResult.
func eventCase(event, object, names, filterResult string) string {
	return `hook: cms.sh
binding: cms
event: ` + event + `
` + cmObjects + `object: ` + object + `
expect:
  valuesPatch:
    - {op: add, path: /demo/internal/names, value: ` + names + `}
  operations:
    - {operation: MergePatch, kind: ConfigMap, namespace: apps, name: summary, mergePatch: {data: {seen: "yes"}}}
  metrics:
    - {name: demo_cms, action: set, value: 1}
  bindingContext:
    - binding: cms
      type: Event
      watchEvent: ` + event + `
      filterResult: ` + filterResult + `
      snapshots:
        secrets:
          - object: {apiVersion: v1, kind: Secret, metadata: {name: s1, namespace: apps}}
            filterResult: s1
`
}

func TestFailingCaseShowsDiff(t *testing.T) {
	bad := strings.Replace(cmsSyncCase, "value: [a, b]}", "value: [a, b, zzz]}", 1)
	dir := writeModule(t, map[string]string{"tests/cms.yaml": bad})
	rep := runTests(t, dir, Test{})
	res := caseResult(t, rep, "tests/cms.yaml")
	if res.Passed || rep.Failed != 1 {
		t.Fatalf("want a failure, got %+v", res)
	}
	for _, want := range []string{"--- expected", "+++ actual", "-      - zzz", "valuesPatch"} {
		if !strings.Contains(res.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, res.Diff)
		}
	}
	if strings.Contains(res.Diff, "metrics") || strings.Contains(res.Diff, "bindingContext") {
		t.Errorf("diff shows fields that match:\n%s", res.Diff)
	}
}

func TestUpdateRewritesExpect(t *testing.T) {
	original := "# Comment about the case, kept.\nhook: greet.sh   # the hook\nbinding: onStartup\nexpect:\n  valuesPatch: []\n  values: {}\n# trailing key comment\nconfigValues: {greeting: yo}\n"
	dir := writeModule(t, map[string]string{"tests/greet.yaml": original})
	path := filepath.Join(dir, "tests", "greet.yaml")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	rep := runTests(t, dir, Test{Update: true})
	if res := caseResult(t, rep, "tests/greet.yaml"); !res.Updated || res.Error != "" {
		t.Fatalf("want updated, got %+v", res)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	want := "# Comment about the case, kept.\nhook: greet.sh   # the hook\nbinding: onStartup\n" +
		"expect:\n  valuesPatch:\n    - op: add\n      path: /demo/internal/greeting\n      value: yo!\n" +
		"  values:\n    greeting: yo\n    internal:\n      greeting: yo!\n" +
		"# trailing key comment\nconfigValues: {greeting: yo}\n"
	if got != want {
		t.Fatalf("updated file:\n%s\nwant:\n%s", got, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", fi.Mode().Perm())
	}
	if rep := runTests(t, dir, Test{}); rep.Passed != 1 {
		t.Fatalf("the updated case does not pass: %+v", rep.Cases)
	}

	// Without an expect section (and without a final newline) one is appended.
	bare := "hook: greet.sh\nbinding: onStartup"
	if err := os.WriteFile(path, []byte(bare), 0o644); err != nil {
		t.Fatal(err)
	}
	runTests(t, dir, Test{Update: true})
	data, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want = bare + "\nexpect:\n  valuesPatch:\n    - op: add\n      path: /demo/internal/greeting\n      value: hello!\n"
	if string(data) != want {
		t.Fatalf("appended expect:\n%s\nwant:\n%s", data, want)
	}
}

func TestBadCaseFiles(t *testing.T) {
	cases := map[string]struct{ content, want string }{
		"tests/unknown-field.yaml": {"hook: greet.sh\nobjcts: []\n", `tests/unknown-field.yaml: line 2: field objcts not found`},
		"tests/no-kind.yaml":       {"hook: cms.sh\nbinding: cms\nobjects:\n  - {apiVersion: v1, metadata: {name: x}}\n", "tests/no-kind.yaml: objects[0]: kind is required"},
		"tests/no-hook.yaml":       {"binding: cms\n", "tests/no-hook.yaml: hook: is required"},
		"tests/bad-event.yaml":     {"hook: cms.sh\nevent: Changed\n", `tests/bad-event.yaml: event: "Changed" is not one of`},
		"tests/no-object.yaml":     {"hook: cms.sh\nevent: Added\n", "tests/no-object.yaml: object: is required for event Added"},
		"tests/bad-binding.yaml":   {"hook: greet.sh\nbinding: nope\n", `tests/bad-binding.yaml: binding: the hook has no binding "nope" (it has: onStartup, every-minute)`},
		"tests/missing-hook.yaml":  {"hook: gone.sh\n", "tests/missing-hook.yaml: hook: hooks/gone.sh does not exist"},
		"tests/escape.yaml":        {"hook: ../x.sh\n", `tests/escape.yaml: hook: "../x.sh" must be a path inside hooks/`},
		"tests/bad-patch.yaml":     {"hook: greet.sh\nexpect:\n  valuesPatch: [1]\n", "tests/bad-patch.yaml: expect.valuesPatch[0]: must be a JSON patch operation"},
		"tests/bad-settings.yaml":  {"hook: greet.sh\nconfigValues: {greeting: 5}\n", "tests/bad-settings.yaml: settings of module demo"},
		"tests/not-a-map.yaml":     {"- hook: greet.sh\n", "tests/not-a-map.yaml: a test case must be a YAML mapping"},
		"tests/duplicate.yaml":     {"hook: cms.sh\nobjects:\n  - {apiVersion: v1, kind: Pod, metadata: {name: p}}\n  - {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: default}}\n", "tests/duplicate.yaml: objects[1]: Pod default/p is already objects[0]"},
	}
	files := map[string]string{}
	for f, c := range cases {
		files[f] = c.content
	}
	rep := runTests(t, writeModule(t, files), Test{})
	if rep.Failed != len(cases) {
		t.Errorf("want %d failures, got %d", len(cases), rep.Failed)
	}
	for f, c := range cases {
		res := caseResult(t, rep, f)
		if res.Passed || !strings.Contains(res.Error, c.want) {
			t.Errorf("%s: want error containing %q, got passed=%v error=%q", f, c.want, res.Passed, res.Error)
		}
	}
}

func TestExpectedHookFailure(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"tests/boom.yaml":       "hook: greet.sh\nbinding: onStartup\nconfigValues: {greeting: boom}\nexpect:\n  error: refusing greeting boom\n",
		"tests/boom-wrong.yaml": "hook: greet.sh\nbinding: onStartup\nconfigValues: {greeting: boom}\nexpect:\n  error: something else\n",
		"tests/unexpected.yaml": "hook: greet.sh\nbinding: onStartup\nconfigValues: {greeting: boom}\n",
		"tests/no-failure.yaml": "hook: greet.sh\nbinding: onStartup\nexpect:\n  error: refusing\n  valuesPatch: [{op: add, path: /demo/internal/greeting, value: hello!}]\n",
	})
	rep := runTests(t, dir, Test{})
	if res := caseResult(t, rep, "tests/boom.yaml"); !res.Passed {
		t.Errorf("expected failure not accepted: %+v", res)
	}
	if res := caseResult(t, rep, "tests/boom-wrong.yaml"); res.Passed || !strings.Contains(res.Diff, `want a failure containing "something else"`) || !strings.Contains(res.Diff, "refusing greeting boom") {
		t.Errorf("wrong error accepted or badly reported: %+v", res)
	}
	if res := caseResult(t, rep, "tests/unexpected.yaml"); res.Passed || !strings.Contains(res.Diff, "the hook run failed") || !slicesContain(res.Output, "stderr: refusing greeting boom") {
		t.Errorf("unexpected failure badly reported: %+v", res)
	}
	if res := caseResult(t, rep, "tests/no-failure.yaml"); res.Passed || !strings.Contains(res.Diff, "the hook run succeeded") {
		t.Errorf("missing failure badly reported: %+v", res)
	}
}

func slicesContain(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// Outputs that would fail the hook in the runtime fail it here: replace
// ops, paths outside the module, values the schema rejects.
func TestInvalidOutputsFailTheRun(t *testing.T) {
	hook := func(patch string) string {
		return "#!/usr/bin/env bash\nif [[ \"${1:-}\" == --config ]]; then echo '{\"configVersion\":\"v1\",\"onStartup\":1}'; exit 0; fi\necho '" + patch + "' >> \"$VALUES_JSON_PATCH_PATH\"\n"
	}
	dir := writeModule(t, map[string]string{
		"hooks/replace.sh":   hook(`{"op":"replace","path":"/demo/greeting","value":"x"}`),
		"hooks/outside.sh":   hook(`{"op":"add","path":"/global/x","value":"x"}`),
		"hooks/schema.sh":    hook(`{"op":"add","path":"/demo/internal/greeting","value":5}`),
		"tests/replace.yaml": "hook: replace.sh\nexpect:\n  error: 'op \"replace\" is not allowed'\n",
		"tests/outside.yaml": "hook: outside.sh\nexpect:\n  error: 'path \"/global/x\" is outside the module'\n",
		"tests/schema.yaml":  "hook: schema.sh\nexpect:\n  error: values after VALUES_JSON_PATCH_PATH\n",
	})
	rep := runTests(t, dir, Test{})
	for _, c := range rep.Cases {
		if !c.Passed {
			t.Errorf("%s: %s %s", c.File, c.Error, c.Diff)
		}
	}
}

// A Modified event whose jqFilter result did not change never reaches the
// hook in the runtime; the case says so instead of running it.
func TestUnchangedFilterResultIsNotAnEvent(t *testing.T) {
	c := "hook: cms.sh\nbinding: cms\nevent: Modified\n" + cmObjects +
		`object: {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: apps, labels: {app: web, extra: "1"}}, data: {size: "2"}}` + "\n"
	dir := writeModule(t, map[string]string{"tests/same.yaml": c})
	res := caseResult(t, runTests(t, dir, Test{}), "tests/same.yaml")
	if res.Passed || !strings.Contains(res.Error, "jqFilter result did not change") {
		t.Fatalf("want the no-event explanation, got %+v", res)
	}
}

func TestMatchSelectsCases(t *testing.T) {
	dir := writeModule(t, map[string]string{"tests/cms/sync.yaml": cmsSyncCase, "tests/greet.yaml": greetCase})
	rep := runTests(t, dir, Test{Match: regexp.MustCompile(`^cms/`)})
	if len(rep.Cases) != 1 || rep.Cases[0].Name != "cms/sync" || !rep.Cases[0].Passed {
		t.Fatalf("want only cms/sync, passing: %+v", rep.Cases)
	}
}

// A hook that hangs is killed after the case timeout, with the child and
// grandchild it started; the next case runs.
func TestHangingHookTimesOut(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	dir := writeModule(t, map[string]string{
		"hooks/hang.sh": "#!/usr/bin/env bash\nif [[ \"${1:-}\" == --config ]]; then echo '{\"configVersion\":\"v1\",\"onStartup\":1}'; exit 0; fi\n" +
			"bash -c 'sleep 60 & echo $! >> " + pidFile + "; wait' &\necho $! >> " + pidFile + "\nexec sleep 60\n",
		"tests/a-hang.yaml":  "hook: hang.sh\n",
		"tests/b-greet.yaml": greetCase,
	})
	rep := runTests(t, dir, Test{Timeout: 3 * time.Second})
	if res := caseResult(t, rep, "tests/a-hang.yaml"); res.Passed || !strings.Contains(res.Error, "tests/a-hang.yaml: hook hang.sh: context deadline exceeded") {
		t.Errorf("want a timeout naming the case and hook, got %+v", res)
	}
	if res := caseResult(t, rep, "tests/b-greet.yaml"); !res.Passed {
		t.Errorf("the case after the hanging one failed: %+v", res)
	}
	b, _ := os.ReadFile(pidFile)
	pids := strings.Fields(string(b))
	if len(pids) != 2 {
		t.Fatalf("the hook recorded PIDs %q, want its child and grandchild", b)
	}
	testenv.WaitFor(t, 10*time.Second, "the hook's child and grandchild gone", func() (bool, string) {
		var left []string
		for _, pid := range pids {
			stat, err := os.ReadFile("/proc/" + pid + "/stat")
			if err == nil && !strings.Contains(string(stat), ") Z ") {
				left = append(left, pid)
			}
		}
		return len(left) == 0, "alive: " + strings.Join(left, " ")
	})
}

// A config values patch changes the settings; the values are recomputed
// from them, as the runtime does after persisting the patch.
func TestConfigValuesPatch(t *testing.T) {
	hook := "#!/usr/bin/env bash\nif [[ \"${1:-}\" == --config ]]; then echo '{\"configVersion\":\"v1\",\"onStartup\":1}'; exit 0; fi\n" +
		"jq -c '{op: \"add\", path: \"/demo/greeting\", value: (.demo.greeting + \"-patched\")}' \"$CONFIG_VALUES_PATH\" >> \"$CONFIG_VALUES_JSON_PATCH_PATH\"\n"
	dir := writeModule(t, map[string]string{
		"hooks/cfg.sh": hook,
		"tests/cfg.yaml": `hook: cfg.sh
configValues: {greeting: hey}
expect:
  configValuesPatch:
    - {op: add, path: /demo/greeting, value: hey-patched}
  values:
    greeting: hey-patched
    internal: {}
  manifests:
    - {apiVersion: v1, kind: ConfigMap, metadata: {name: demo, namespace: d8-demo}, data: {greeting: none}}
`,
	})
	res := caseResult(t, runTests(t, dir, Test{}), "tests/cfg.yaml")
	if !res.Passed {
		t.Fatalf("%s %s %v", res.Error, res.Diff, res.Output)
	}
}
