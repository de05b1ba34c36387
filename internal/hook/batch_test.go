package hook

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const batchV1 = `{
  "version": "v1",
  "hooks": [
    {
      "configVersion": "v1",
      "metadata": {"name": "startup", "path": "hooks/startup"},
      "onStartup": 1,
      "beforeHelm": 10,
      "afterDeleteHelm": 5,
      "allowFailure": true,
      "logLevel": "debug",
      "settings": {"executionMinInterval": 30000000000, "executionBurst": 2, "enableSchedulesOnStartup": true}
    },
    {
      "configVersion": "v1",
      "metadata": {"name": "nodes", "path": "hooks/nodes"},
      "schedule": [{"name": "every-minute", "crontab": "* * * * *"}, {"crontab": "*/5 * * * * *", "queue": "slow"}],
      "kubernetes": [
        {"name": "nodes", "apiVersion": "v1", "kind": "Node", "jqFilter": "{name: .metadata.name}",
         "keepFullObjectsInMemory": false, "executeHookOnEvent": false, "executeHookOnSynchronization": false,
         "labelSelector": {"matchLabels": {"role": "worker"}}, "nameSelector": {"matchNames": ["a", "b"]},
         "fieldSelector": {"matchExpressions": [{"field": "metadata.namespace", "operator": "Equals", "value": "x"}]},
         "namespace": {"nameSelector": {"matchNames": ["kube-system"]}}, "allowFailure": true},
        {"name": "pods", "kind": "Pod", "keepFullObjectsInMemory": true, "executeHookOnEvent": true,
         "waitForSynchronization": false, "queue": "pods", "includeSnapshotsFrom": ["nodes"], "futureField": 1}
      ]
    }
  ],
  "readiness": {"configVersion": "v1", "metadata": {"name": "readiness", "path": "common-hooks/readiness"},
                "schedule": [{"name": "m-moduleReadinessSchedule", "crontab": "*/15 * * * * *"}]},
  "has_settings_check": true
}
`

func TestParseBatchConfigV1(t *testing.T) {
	cfg, err := ParseBatchConfig("hooks/batch", []byte(batchV1), KindModule)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Version != "v1" || !cfg.HasSettingsCheck || len(cfg.Hooks) != 2 {
		t.Fatalf("config = %+v", cfg)
	}
	if cfg.Readiness == nil || cfg.Readiness.Index != -1 || cfg.Readiness.Name != "readiness" ||
		len(cfg.Readiness.Config.Schedules) != 1 {
		t.Errorf("readiness = %+v", cfg.Readiness)
	}

	startup := cfg.Hooks[0]
	wantMeta := BatchHook{Index: 0, Name: "startup", Path: "hooks/startup", AllowFailure: true, LogLevel: "debug", EnableSchedulesOnStartup: true}
	if startup.BatchHook != wantMeta {
		t.Errorf("hook 0 = %+v, want %+v", startup.BatchHook, wantMeta)
	}
	if startup.Config.Version != ConfigV1 || startup.Config.OnStartup == nil || *startup.Config.OnStartup != 1 {
		t.Errorf("hook 0 config = %+v", startup.Config)
	}
	if want := map[BindingType]int{BindingBeforeHelm: 10, BindingAfterDeleteHelm: 5}; !reflect.DeepEqual(startup.Config.Lifecycle, want) {
		t.Errorf("lifecycle = %v", startup.Config.Lifecycle)
	}
	if s := startup.Config.Settings; s == nil || s.ExecutionMinInterval != 30*time.Second || s.ExecutionBurst != 2 {
		t.Errorf("settings = %+v", s)
	}

	nodes := cfg.Hooks[1]
	if nodes.Index != 1 || nodes.Name != "nodes" {
		t.Errorf("hook 1 = %+v", nodes.BatchHook)
	}
	sch := nodes.Config.Schedules
	if len(sch) != 2 || sch[0].Name != "every-minute" || sch[1].Name != DefaultScheduleName || sch[1].Queue != "slow" || sch[0].Queue != DefaultQueue {
		t.Fatalf("schedules = %+v", sch)
	}
	// Every binding of a bundle hook is in group "main", so every run gets
	// all kubernetes snapshots.
	for _, s := range sch {
		if s.Group != "main" || !reflect.DeepEqual(s.IncludeSnapshotsFrom, []string{"nodes", "pods"}) {
			t.Errorf("schedule %s: group %q includes %v", s.Name, s.Group, s.IncludeSnapshotsFrom)
		}
	}
	kb := nodes.Config.Kubernetes
	if len(kb) != 2 {
		t.Fatalf("kubernetes = %+v", kb)
	}
	n, p := kb[0], kb[1]
	if n.Name != "nodes" || n.Watch.Kind != "Node" || n.Watch.JqFilter != "{name: .metadata.name}" ||
		n.Watch.KeepFullObjectsInMemory || len(n.Watch.ExecuteHookOnEvent) != 0 || n.Watch.ExecuteHookOnEvent == nil ||
		n.ExecuteHookOnSynchronization || !n.AllowFailure || n.Group != "main" ||
		!reflect.DeepEqual(n.Watch.NameSelector, []string{"a", "b"}) ||
		n.Watch.LabelSelector == nil || n.Watch.LabelSelector.MatchLabels["role"] != "worker" ||
		n.Watch.FieldSelectorString() != "metadata.namespace=x" ||
		!reflect.DeepEqual(n.Watch.Namespace.MatchNames, []string{"kube-system"}) {
		t.Errorf("nodes binding = %+v", n)
	}
	if p.Name != "pods" || !p.Watch.KeepFullObjectsInMemory || !reflect.DeepEqual(p.Watch.ExecuteHookOnEvent, AllWatchEvents()) ||
		!p.ExecuteHookOnSynchronization || p.WaitForSynchronization || p.Queue != "pods" ||
		!reflect.DeepEqual(p.IncludeSnapshotsFrom, []string{"nodes", "pods"}) {
		t.Errorf("pods binding = %+v", p)
	}
}

func TestParseBatchConfigDefaults(t *testing.T) {
	// A binding as a hand-written bundle might print it: no name, no
	// keepFullObjectsInMemory, no executeHookOnEvent.
	cfg, err := ParseBatchConfig("hooks/b", []byte(`{"version":"v1","hooks":[{"metadata":{"name":"x"},"kubernetes":[{"kind":"Pod"}],"settings":{"enableSchedulesOnStartup":false}}]}`), KindModule)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Hooks[0].Config.Kubernetes[0]
	if b.Name != DefaultKubernetesName || b.Watch.KeepFullObjectsInMemory || !reflect.DeepEqual(b.Watch.ExecuteHookOnEvent, AllWatchEvents()) ||
		!b.ExecuteHookOnSynchronization || !b.WaitForSynchronization || b.Queue != DefaultQueue {
		t.Errorf("binding = %+v", b)
	}
	if cfg.Hooks[0].Config.Settings != nil {
		t.Errorf("settings without interval or burst = %+v", cfg.Hooks[0].Config.Settings)
	}
	if cfg.Readiness != nil || cfg.HasSettingsCheck {
		t.Errorf("config = %+v", cfg)
	}
}

func TestParseBatchConfigLegacyArray(t *testing.T) {
	data := `
[{"configVersion":"v1","metadata":{"name":"a","path":"p"},"onStartup":3},
 {"configVersion":"v1","metadata":{"name":"b","path":"p"},"schedule":[{"crontab":"@every 1m"}],"readiness":null}]`
	cfg, err := ParseBatchConfig("hooks/old", []byte(data), KindModule)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Version != "" || len(cfg.Hooks) != 2 || cfg.Hooks[1].Index != 1 || cfg.Hooks[1].Name != "b" ||
		*cfg.Hooks[0].Config.OnStartup != 3 || cfg.Hooks[1].Config.Schedules[0].Crontab != "@every 1m" {
		t.Errorf("config = %+v", cfg)
	}
}

func TestParseBatchConfigGlobal(t *testing.T) {
	cfg, err := ParseBatchConfig("hooks/g", []byte(`{"version":"v1","hooks":[{"beforeHelm":1,"afterHelm":2}]}`), KindGlobal)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[BindingType]int{BindingBeforeAll: 1, BindingAfterAll: 2}; !reflect.DeepEqual(cfg.Hooks[0].Config.Lifecycle, want) {
		t.Errorf("lifecycle = %v", cfg.Hooks[0].Config.Lifecycle)
	}
	_, err = ParseBatchConfig("hooks/g", []byte(`{"version":"v1","hooks":[{"beforeDeleteHelm":1}]}`), KindGlobal)
	if err == nil || err.Error() != "hooks/g: hooks[0].beforeDeleteHelm: not a binding of global hooks" {
		t.Errorf("err = %v", err)
	}
}

func TestParseBatchConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"not json", `Found 2 items`, []string{"hooks/batch: hook config output is not valid JSON"}},
		{"empty", ``, []string{"hooks/batch: hook config output is not valid JSON: EOF"}},
		{"trailing", `{"version":"v1","hooks":[]} {"level":"info"}`, []string{"hooks/batch: hook config output has data after the JSON document"}},
		{"scalar", `"v1"`, []string{"hooks/batch: hook config output must be a JSON object or array, got string"}},
		{"no version", `{"hooks":[]}`, []string{"hooks/batch: version: required"}},
		{"bad version", `{"version":"v2","hooks":[]}`, []string{`hooks/batch: version: unsupported value "v2" (allowed: v1)`}},
		{"no hooks", `{"version":"v1"}`, []string{"hooks/batch: hooks: required"}},
		{"hooks object", `{"version":"v1","hooks":{}}`, []string{"hooks/batch: hooks: must be an array, got object"}},
		{"entry", `{"version":"v1","hooks":[1]}`, []string{"hooks/batch: hooks[0]: must be an object, got number"}},
		{"settings check", `{"version":"v1","hooks":[],"has_settings_check":"yes"}`, []string{"hooks/batch: has_settings_check: must be a boolean, got string"}},
		{"entry fields", `{"version":"v1","hooks":[{},{"configVersion":"v0","metadata":{"name":1},"onStartup":-1,"beforeHelm":1.5,"allowFailure":"no","logLevel":3}]}`, []string{
			`hooks/batch: hooks[1].configVersion: unsupported value "v0" (allowed: v1)`,
			"hooks/batch: hooks[1].metadata.name: must be a string, got number",
			"hooks/batch: hooks[1].onStartup: must not be negative, got -1",
			"hooks/batch: hooks[1].beforeHelm: must be an integer, got 1.5",
			"hooks/batch: hooks[1].allowFailure: must be a boolean, got string",
			"hooks/batch: hooks[1].logLevel: must be a string, got number",
		}},
		{"settings", `{"version":"v1","hooks":[{"settings":{"executionMinInterval":-5,"executionBurst":"2"}},{"settings":{"executionMinInterval":"soon"}},{"settings":[]}]}`, []string{
			"hooks/batch: hooks[0].settings.executionMinInterval: must be a non-negative integer number of nanoseconds, got -5",
			"hooks/batch: hooks[0].settings.executionBurst: must be an integer, got string",
			`hooks/batch: hooks[1].settings.executionMinInterval: time: invalid duration "soon"`,
			"hooks/batch: hooks[2].settings: must be an object, got array",
		}},
		{"bindings", `{"version":"v1","hooks":[{"onStartup":1},{"kubernetes":[{"name":"a"},{"kind":"Pod","jqFilter":".[","executeHookOnEvent":"yes"},"x"],"schedule":[{"crontab":"nope"},{"name":"s"}]}]}`, []string{
			"hooks/batch: hooks[1].kubernetes[0].kind: required",
			"hooks/batch: hooks[1].kubernetes[1].executeHookOnEvent: must be a boolean, got string",
			"hooks/batch: hooks[1].kubernetes[1].jqFilter: ",
			"hooks/batch: hooks[1].kubernetes[2]: must be an object, got string",
			"hooks/batch: hooks[1].schedule[0].crontab: invalid",
			"hooks/batch: hooks[1].schedule[1].crontab: required",
		}},
		{"includes", `{"version":"v1","hooks":[{"kubernetes":[{"kind":"Pod","includeSnapshotsFrom":["nodes"]}]}]}`, []string{
			`hooks/batch: hooks[0].kubernetes[0].includeSnapshotsFrom[0]: no kubernetes binding named "nodes"`,
		}},
		{"lists", `{"version":"v1","hooks":[{"kubernetes":{},"schedule":"x"}]}`, []string{
			"hooks/batch: hooks[0].kubernetes: must be an array, got object",
			"hooks/batch: hooks[0].schedule: must be an array, got string",
		}},
		{"readiness", `{"version":"v1","hooks":[],"readiness":{"schedule":[{"crontab":"x"}]}}`, []string{"hooks/batch: readiness.schedule[0].crontab: invalid"}},
		{"legacy entry", `[{"kubernetes":[{}]}]`, []string{"hooks/batch: [0].kubernetes[0].kind: required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseBatchConfig("hooks/batch", []byte(tc.data), KindModule)
			if err == nil {
				t.Fatalf("no error, config %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("config returned with error: %+v", cfg)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for _, want := range tc.want {
				found := false
				for _, l := range lines {
					found = found || strings.HasPrefix(l, want)
				}
				if !found {
					t.Errorf("error\n%v\nlacks %q", err, want)
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Hook != "hooks/batch" {
				t.Errorf("not a *FieldError naming the bundle: %#v", err)
			}
		})
	}
}

func TestBatchHookName(t *testing.T) {
	e := BatchEntry{BatchHook: BatchHook{Index: 3, Name: "nodes"}}
	if got := batchHookName("sub/batch", e); got != "sub/batch:nodes:3" {
		t.Errorf("name = %q", got)
	}
}
