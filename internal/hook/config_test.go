package hook

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/deckhand-dev/deckhand/internal/schedule"
)

func TestParseConfigV1YAML(t *testing.T) {
	data := `
configVersion: v1
onStartup: 10
settings:
  executionMinInterval: 3s
  executionBurst: 2
schedule:
- crontab: "*/5 * * * *"
- name: every-sec
  crontab: "*/10 * * * * *"
  allowFailure: true
  queue: slow
  group: pods
  includeSnapshotsFrom: [cms]
- crontab: "@every 1h30m"
- crontab: "CRON_TZ=Europe/Berlin 0 3 * * *"
- crontab: "TZ=UTC @daily"
kubernetes:
- apiVersion: v1
  kind: Pod
  jqFilter: '.metadata.labels'
  group: pods
  labelSelector:
    matchLabels: {app: web}
    matchExpressions:
    - {key: tier, operator: In, values: [a, b]}
  fieldSelector:
    matchExpressions:
    - {field: status.phase, operator: Equals, value: Running}
    - {field: spec.nodeName, operator: NotEquals, value: n1}
  namespace:
    nameSelector: {matchNames: [default, kube-system]}
- name: cms
  kind: ConfigMap
  executeHookOnEvent: []
  executeHookOnSynchronization: false
  keepFullObjectsInMemory: false
  waitForSynchronization: false
  queue: cm
  includeSnapshotsFrom: [cms]
  nameSelector: {matchNames: [a]}
  namespace:
    labelSelector:
      matchExpressions: [{key: env, operator: Exists}]
- name: legacy
  kind: Secret
  watchEvent: [Deleted]
  waitForSynchronization: false
`
	cfg, err := ParseConfig("hooks/a.sh", []byte(data), KindShell)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if cfg.Version != ConfigV1 || cfg.OnStartup == nil || *cfg.OnStartup != 10 {
		t.Fatalf("version/onStartup: %+v", cfg)
	}
	if cfg.Settings == nil || cfg.Settings.ExecutionMinInterval != 3*time.Second || cfg.Settings.ExecutionBurst != 2 {
		t.Fatalf("settings: %+v", cfg.Settings)
	}
	if len(cfg.Schedules) != 5 {
		t.Fatalf("schedules: %d", len(cfg.Schedules))
	}
	s0, s1 := cfg.Schedules[0], cfg.Schedules[1]
	if s0.Name != "schedule" || s0.Queue != "main" || s0.AllowFailure || s0.Group != "" {
		t.Errorf("schedule defaults: %+v", s0)
	}
	if s1.Name != "every-sec" || s1.Queue != "slow" || !s1.AllowFailure ||
		strings.Join(s1.IncludeSnapshotsFrom, ",") != "cms,kubernetes" {
		t.Errorf("schedule[1]: %+v", s1)
	}
	if len(cfg.Kubernetes) != 3 {
		t.Fatalf("kubernetes: %d", len(cfg.Kubernetes))
	}
	k0, k1, k2 := cfg.Kubernetes[0], cfg.Kubernetes[1], cfg.Kubernetes[2]
	if k0.Name != "kubernetes" || k0.Queue != "main" || !k0.ExecuteHookOnSynchronization || !k0.WaitForSynchronization ||
		!k0.Watch.KeepFullObjectsInMemory || len(k0.Watch.ExecuteHookOnEvent) != 3 || k0.Watch.JqFilter != ".metadata.labels" {
		t.Errorf("kubernetes[0] defaults: %+v", k0)
	}
	if strings.Join(k0.IncludeSnapshotsFrom, ",") != "kubernetes" {
		t.Errorf("group include: %v", k0.IncludeSnapshotsFrom)
	}
	if got := k0.Watch.FieldSelectorString(); got != "status.phase=Running,spec.nodeName!=n1" {
		t.Errorf("field selector: %q", got)
	}
	if k0.Watch.LabelSelector.MatchLabels["app"] != "web" || k0.Watch.LabelSelector.MatchExpressions[0].Operator != metav1.LabelSelectorOpIn {
		t.Errorf("label selector: %+v", k0.Watch.LabelSelector)
	}
	if strings.Join(k0.Watch.Namespace.MatchNames, ",") != "default,kube-system" {
		t.Errorf("namespaces: %+v", k0.Watch.Namespace)
	}
	if k1.ExecuteHookOnSynchronization || k1.WaitForSynchronization || k1.Watch.KeepFullObjectsInMemory ||
		k1.Watch.ExecuteHookOnEvent == nil || len(k1.Watch.ExecuteHookOnEvent) != 0 || k1.Queue != "cm" ||
		k1.Watch.NameSelector[0] != "a" || k1.Watch.Namespace.LabelSelector == nil {
		t.Errorf("kubernetes[1]: %+v", k1)
	}
	// waitForSynchronization: false without an explicit queue is ignored.
	if !k2.WaitForSynchronization || len(k2.Watch.ExecuteHookOnEvent) != 1 || k2.Watch.ExecuteHookOnEvent[0] != WatchEventDeleted {
		t.Errorf("kubernetes[2]: %+v", k2)
	}
	if k2.Watch.ExecutesOn(WatchEventAdded) || !k2.Watch.ExecutesOn(WatchEventDeleted) {
		t.Errorf("ExecutesOn")
	}
}

func TestParseConfigV1JSON(t *testing.T) {
	data := `{"configVersion":"v1","kubernetes":[{"kind":"Namespace","executeHookOnEvent":["Added"],"watchEvent":["Deleted"]}]}`
	cfg, err := ParseConfig("hooks/b", []byte(data), KindShell)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OnStartup != nil || cfg.Settings != nil || len(cfg.Schedules) != 0 {
		t.Errorf("unexpected bindings: %+v", cfg)
	}
	if ev := cfg.Kubernetes[0].Watch.ExecuteHookOnEvent; len(ev) != 1 || ev[0] != WatchEventAdded {
		t.Errorf("executeHookOnEvent must win over watchEvent: %v", ev)
	}
}

func TestParseConfigV0(t *testing.T) {
	data := `{
  "onStartup": 1,
  "schedule": [{"crontab": "* * * * *", "allowFailure": true}],
  "onKubernetesEvent": [
    {"kind": "Pod", "event": ["add", "delete"], "selector": {"matchLabels": {"a": "b"}},
     "objectName": "p1", "namespaceSelector": {"matchNames": ["ns1"]}, "jqFilter": ".spec"},
    {"name": "all", "kind": "ConfigMap", "namespaceSelector": {"matchNames": ["x"], "any": true}}
  ]
}`
	cfg, err := ParseConfig("hooks/v0.sh", []byte(data), KindShell)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Version != ConfigV0 || *cfg.OnStartup != 1 {
		t.Fatalf("%+v", cfg)
	}
	if s := cfg.Schedules[0]; s.Name != "schedule" || s.Queue != "main" || !s.AllowFailure {
		t.Errorf("schedule: %+v", s)
	}
	k0, k1 := cfg.Kubernetes[0], cfg.Kubernetes[1]
	if k0.Name != "onKubernetesEvent" || k0.Queue != "main" || !k0.Watch.NoSynchronization ||
		len(k0.Watch.ExecuteHookOnEvent) != 2 || k0.Watch.ExecuteHookOnEvent[1] != WatchEventDeleted ||
		k0.Watch.NameSelector[0] != "p1" || k0.Watch.Namespace.MatchNames[0] != "ns1" || k0.Watch.LabelSelector == nil {
		t.Errorf("onKubernetesEvent[0]: %+v", k0)
	}
	if k1.Name != "all" || len(k1.Watch.Namespace.MatchNames) != 0 || len(k1.Watch.ExecuteHookOnEvent) != 0 {
		t.Errorf("onKubernetesEvent[1]: %+v", k1)
	}
}

func TestParseConfigLifecycle(t *testing.T) {
	data := "configVersion: v1\nbeforeHelm: 10\nafterDeleteHelm: 5\n"
	cfg, err := ParseConfig("hooks/m.sh", []byte(data), KindModule)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lifecycle[BindingBeforeHelm] != 10 || cfg.Lifecycle[BindingAfterDeleteHelm] != 5 {
		t.Errorf("lifecycle: %v", cfg.Lifecycle)
	}
	if _, err := ParseConfig("hooks/m.sh", []byte(data), KindShell); err == nil ||
		!strings.Contains(err.Error(), "hooks/m.sh: beforeHelm: unknown field") {
		t.Errorf("shell hook with beforeHelm: %v", err)
	}
	if _, err := ParseConfig("hooks/g.sh", []byte("configVersion: v1\nbeforeAll: 1\n"), KindGlobal); err != nil {
		t.Errorf("global beforeAll: %v", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, data string
		want       []string
	}{
		{"not yaml", "a: [", []string{"hooks/x.sh: config is not valid YAML or JSON"}},
		{"empty", "", []string{"hooks/x.sh: config is empty"}},
		{"scalar", "hello", []string{"hooks/x.sh: config must be an object, got string"}},
		{"bad version", "configVersion: v2\nonStartup: 1", []string{"hooks/x.sh: configVersion: unsupported value \"v2\""}},
		{"version number", "configVersion: 1\nonStartup: 1", []string{"hooks/x.sh: configVersion: must be a string, got number"}},
		{"version only", "configVersion: v1", []string{"hooks/x.sh: config has configVersion but no bindings"}},
		{"unknown top", "configVersion: v1\nonStartup: 1\nonstartup: 2", []string{"hooks/x.sh: onstartup: unknown field"}},
		{"onStartup float", "configVersion: v1\nonStartup: 1.5", []string{"hooks/x.sh: onStartup: must be an integer, got 1.5"}},
		{"onStartup string", "configVersion: v1\nonStartup: '1'", []string{"onStartup: must be an integer, got string"}},
		{"webhook without rules", "configVersion: v1\nkubernetesValidating: [{name: a.b.c}]", []string{"hooks/x.sh: kubernetesValidating[0].rules: must have at least 1 item(s)"}},
		{"webhook short name", "configVersion: v1\nkubernetesMutating: [{name: short, rules: [{operations: [CREATE], apiGroups: [''], apiVersions: [v1], resources: [pods]}]}]", []string{"kubernetesMutating[0].name: \"short\" must be a DNS name"}},
		{"webhook bad policy", "configVersion: v1\nkubernetesValidating: [{name: a.b.c, failurePolicy: Sometimes, rules: [{operations: [CREATE], apiGroups: [''], apiVersions: [v1], resources: [pods]}]}]", []string{`kubernetesValidating[0].failurePolicy: "Sometimes" is not Ignore or Fail`}},
		{"webhook unknown field", "configVersion: v1\nkubernetesValidating: [{name: a.b.c, rulez: []}]", []string{`kubernetesValidating[0]: json: unknown field "rulez"`}},
		{"conversion without crdName", "configVersion: v1\nkubernetesCustomResourceConversion: [{name: c, conversions: [{fromVersion: v1, toVersion: v2}]}]", []string{"kubernetesCustomResourceConversion[0].crdName: is required"}},
		{"mode hidden field", "configVersion: v1\nkubernetes: [{kind: Pod, mode: v0}]", []string{"hooks/x.sh: kubernetes[0].mode: unknown field"}},
		{"missing kind", "configVersion: v1\nkubernetes: [{name: a}, {}]", []string{
			"hooks/x.sh: kubernetes[0].kind: required", "hooks/x.sh: kubernetes[1].kind: required"}},
		{"empty kubernetes", "configVersion: v1\nkubernetes: []", []string{"hooks/x.sh: kubernetes: must have at least 1 item(s)"}},
		{"bad event", "configVersion: v1\nkubernetes: [{kind: Pod, executeHookOnEvent: [Added, Created]}]", []string{
			`hooks/x.sh: kubernetes[0].executeHookOnEvent[1]: unsupported value "Created" (allowed: Added, Modified, Deleted)`}},
		{"bad label op", "configVersion: v1\nkubernetes:\n- kind: Pod\n- kind: Pod\n  labelSelector:\n    matchExpressions: [{key: a, operator: Foo}]", []string{
			`hooks/x.sh: kubernetes[1].labelSelector.matchExpressions[0].operator: unsupported value "Foo"`}},
		{"label In without values", "configVersion: v1\nkubernetes:\n- kind: Pod\n  labelSelector:\n    matchExpressions: [{key: a, operator: In}]", []string{
			"hooks/x.sh: kubernetes[0].labelSelector.matchExpressions[0]: ", "values"}},
		{"bad label key", "configVersion: v1\nkubernetes:\n- kind: Pod\n  labelSelector:\n    matchLabels: {'a b': c}", []string{
			"hooks/x.sh: kubernetes[0].labelSelector.matchLabels: "}},
		{"empty label selector", "configVersion: v1\nkubernetes: [{kind: Pod, labelSelector: {}}]", []string{
			"hooks/x.sh: kubernetes[0].labelSelector: must set matchLabels or matchExpressions"}},
		{"label extra key", "configVersion: v1\nkubernetes: [{kind: Pod, labelSelector: {matchLabels: {a: b}, matchFields: {}}}]", []string{
			"hooks/x.sh: kubernetes[0].labelSelector.matchFields: unknown field"}},
		{"bad field op", "configVersion: v1\nkubernetes: [{kind: Pod, fieldSelector: {matchExpressions: [{field: a, operator: '>', value: b}]}}]", []string{
			`hooks/x.sh: kubernetes[0].fieldSelector.matchExpressions[0].operator: unsupported value ">"`}},
		{"field missing value", "configVersion: v1\nkubernetes: [{kind: Pod, fieldSelector: {matchExpressions: [{field: a, operator: '='}]}}]", []string{
			"hooks/x.sh: kubernetes[0].fieldSelector.matchExpressions[0].value: required"}},
		{"name and field name", "configVersion: v1\nkubernetes: [{kind: Pod, nameSelector: {matchNames: [a]}, fieldSelector: {matchExpressions: [{field: metadata.name, operator: '=', value: b}]}}]", []string{
			"hooks/x.sh: kubernetes[0].fieldSelector.matchExpressions[0]: a metadata.name field selector and nameSelector.matchNames are mutually exclusive"}},
		{"nameSelector without matchNames", "configVersion: v1\nkubernetes: [{kind: Pod, nameSelector: {}}]", []string{
			"hooks/x.sh: kubernetes[0].nameSelector.matchNames: required"}},
		{"namespace empty", "configVersion: v1\nkubernetes: [{kind: Pod, namespace: {}}]", []string{
			"hooks/x.sh: kubernetes[0].namespace: must set nameSelector or labelSelector"}},
		{"namespace unknown", "configVersion: v1\nkubernetes: [{kind: Pod, namespace: {matchNames: [a]}}]", []string{
			"hooks/x.sh: kubernetes[0].namespace.matchNames: unknown field"}},
		{"bad jq", "configVersion: v1\nkubernetes: [{kind: Pod, jqFilter: '.metadata | {'}]", []string{
			"hooks/x.sh: kubernetes[0].jqFilter: jq: "}},
		{"jq unknown function", "configVersion: v1\nkubernetes: [{kind: Pod, jqFilter: 'nosuchfn(1)'}]", []string{
			"hooks/x.sh: kubernetes[0].jqFilter: jq: "}},
		{"bad apiVersion", "configVersion: v1\nkubernetes: [{kind: Pod, apiVersion: a/b/c}]", []string{
			"hooks/x.sh: kubernetes[0].apiVersion: "}},
		{"bool as string", "configVersion: v1\nkubernetes: [{kind: Pod, allowFailure: 'yes'}]", []string{
			"hooks/x.sh: kubernetes[0].allowFailure: must be a boolean, got string"}},
		{"include missing", "configVersion: v1\nkubernetes: [{kind: Pod, includeSnapshotsFrom: [nope]}]", []string{
			`hooks/x.sh: kubernetes[0].includeSnapshotsFrom[0]: no kubernetes binding named "nope"`}},
		{"include ambiguous", "configVersion: v1\nkubernetes: [{kind: Pod, name: a}, {kind: Pod, name: a}]\nschedule: [{crontab: '* * * * *', includeSnapshotsFrom: [a]}]", []string{
			`hooks/x.sh: schedule[0].includeSnapshotsFrom[0]: 2 kubernetes bindings are named "a"`}},
		{"include empty", "configVersion: v1\nschedule: [{crontab: '* * * * *', includeSnapshotsFrom: []}]", []string{
			"hooks/x.sh: schedule[0].includeSnapshotsFrom: must have at least 1 item(s)"}},
		{"no crontab", "configVersion: v1\nschedule: [{name: x}]", []string{"hooks/x.sh: schedule[0].crontab: required"}},
		{"bad crontab", "configVersion: v1\nschedule: [{crontab: '* * *'}]", []string{`hooks/x.sh: schedule[0].crontab: invalid crontab "* * *"`}},
		{"bad crontab range", "configVersion: v1\nschedule: [{crontab: '61 * * * *'}]", []string{`hooks/x.sh: schedule[0].crontab: invalid crontab`}},
		{"bad tz", "configVersion: v1\nschedule: [{crontab: 'TZ=Nowhere/City * * * * *'}]", []string{`hooks/x.sh: schedule[0].crontab: invalid crontab`}},
		{"bad every", "configVersion: v1\nschedule: [{crontab: '@every soon'}]", []string{`hooks/x.sh: schedule[0].crontab: invalid crontab`}},
		{"schedule unknown", "configVersion: v1\nschedule: [{crontab: '* * * * *', executeHookOnSynchronization: true}]", []string{
			"hooks/x.sh: schedule[0].executeHookOnSynchronization: unknown field"}},
		{"settings partial", "configVersion: v1\nsettings: {executionMinInterval: 1s}", []string{
			"hooks/x.sh: settings.executionBurst: required when settings is set"}},
		{"settings bad duration", "configVersion: v1\nsettings: {executionMinInterval: soon, executionBurst: 1}", []string{
			"hooks/x.sh: settings.executionMinInterval: "}},
		{"settings unknown", "configVersion: v1\nsettings: {executionMinPeriod: 1s, executionMinInterval: 1s, executionBurst: 1}", []string{
			"hooks/x.sh: settings.executionMinPeriod: unknown field"}},
		{"v0 unknown top", "onStartup: 1\nkubernetes: []", []string{"hooks/x.sh: kubernetes: unknown field"}},
		{"v0 empty", "{}", []string{"hooks/x.sh: config has no bindings"}},
		{"v0 bad event", "onKubernetesEvent: [{kind: Pod, event: [create]}]", []string{
			`hooks/x.sh: onKubernetesEvent[0].event[0]: unsupported value "create" (allowed: add, update, delete)`}},
		{"v0 unknown item key", "schedule: [{crontab: '* * * * *', queue: x}]", []string{"hooks/x.sh: schedule[0].queue: unknown field"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("hooks/x.sh", []byte(tc.data), KindShell)
			if err == nil {
				t.Fatalf("no error for %q", tc.data)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Hook != "hooks/x.sh" {
				t.Errorf("error is not a *FieldError naming the hook: %#v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// Crontabs are checked by internal/schedule's parser (the one that runs
// them), so hook and scheduler accept exactly the same forms; a jqFilter
// importing jq modules is left to internal/kube, which has the library path.
func TestScheduleAndJqChecks(t *testing.T) {
	for _, c := range []string{"* * * * *", "*/15 * * * * *", "@every 90s", "@hourly", "@daily", "TZ=Asia/Tokyo 0 9 * * 1-5", "CRON_TZ=UTC 0 0 9 * * *"} {
		cfg, err := ParseConfig("hooks/x.sh", []byte("configVersion: v1\nschedule: [{crontab: '"+c+"'}]"), KindShell)
		if err != nil {
			t.Errorf("%q: %v", c, err)
			continue
		}
		if _, err := schedule.Parse(cfg.Schedules[0].Crontab); err != nil {
			t.Errorf("%q accepted by hook, rejected by schedule: %v", c, err)
		}
	}
	for _, f := range []string{`import "lib" as lib; lib::name`, `include "lib"; name`} {
		if _, err := ParseConfig("hooks/x.sh", []byte("configVersion: v1\nkubernetes: [{kind: Pod, jqFilter: '"+f+"'}]"), KindShell); err != nil {
			t.Errorf("jqFilter %q rejected: %v", f, err)
		}
	}
}
