package hook

import (
	"fmt"
	"time"

	"sigs.k8s.io/yaml"
)

// Kind says which addon-operator lifecycle bindings a hook may declare.
type Kind int

const (
	// KindShell is a plain shell-operator hook: no lifecycle bindings.
	KindShell Kind = iota
	// KindModule is an addon-operator module hook: beforeHelm, afterHelm,
	// beforeDeleteHelm, afterDeleteHelm.
	KindModule
	// KindGlobal is an addon-operator global hook: beforeAll, afterAll.
	KindGlobal
)

func (k Kind) lifecycle() []BindingType {
	switch k {
	case KindModule:
		return []BindingType{BindingBeforeHelm, BindingAfterHelm, BindingBeforeDeleteHelm, BindingAfterDeleteHelm}
	case KindGlobal:
		return []BindingType{BindingBeforeAll, BindingAfterAll}
	}
	return nil
}

// ParseConfig parses and validates the --config output of hook name (the
// name errors use, e.g. "hooks/a.sh"). data is YAML or JSON; configVersion
// "v1" selects the current format and its absence the legacy v0 format.
// All problems found are returned, joined, each a *FieldError.
func ParseConfig(name string, data []byte, kind Kind) (Config, error) {
	w := &walker{hook: name}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		w.fail("", "config is not valid YAML or JSON: %v", err)
		return Config{}, w.err()
	}
	if doc == nil {
		w.fail("", "config is empty")
		return Config{}, w.err()
	}
	top, ok := doc.(map[string]any)
	if !ok {
		w.fail("", "config must be an object, got %s", typeName(doc))
		return Config{}, w.err()
	}
	raw, has := top["configVersion"]
	if !has {
		cfg := w.configV0(top, kind)
		return cfg, w.err()
	}
	version, ok := raw.(string)
	if !ok {
		w.fail("configVersion", "must be a string, got %s", typeName(raw))
		return Config{}, w.err()
	}
	if version != ConfigV1 {
		w.fail("configVersion", "unsupported value %q (allowed: v1, or no key for v0)", version)
		return Config{}, w.err()
	}
	cfg := w.configV1(top, kind)
	return cfg, w.err()
}

func (w *walker) lifecycle(top map[string]any, kind Kind, cfg *Config) {
	for _, b := range kind.lifecycle() {
		v, ok := top[string(b)]
		if !ok {
			continue
		}
		if n, ok := w.integer(string(b), v); ok {
			if cfg.Lifecycle == nil {
				cfg.Lifecycle = map[BindingType]int{}
			}
			cfg.Lifecycle[b] = n
		}
	}
}

func lifecycleKeys(kind Kind) []string {
	var keys []string
	for _, b := range kind.lifecycle() {
		keys = append(keys, string(b))
	}
	return keys
}

func (w *walker) configV1(top map[string]any, kind Kind) Config {
	cfg := Config{Version: ConfigV1}
	allowed := append([]string{"configVersion", "onStartup", "schedule", "kubernetes", "settings",
		string(BindingValidating), string(BindingMutating), string(BindingConversion)}, lifecycleKeys(kind)...)
	w.object("", top, allowed...)
	if len(top) < 2 {
		w.fail("", "config has configVersion but no bindings or settings")
	}
	cfg.OnStartup = w.onStartup(top)
	w.lifecycle(top, kind, &cfg)
	if v, ok := top["settings"]; ok {
		cfg.Settings = w.settings("settings", v)
	}
	if v, ok := top["kubernetes"]; ok {
		items, _ := w.list("kubernetes", v, 1)
		for i, item := range items {
			if b, ok := w.kubernetesV1(index("kubernetes", i), item); ok {
				cfg.Kubernetes = append(cfg.Kubernetes, b)
			}
		}
	}
	if v, ok := top["schedule"]; ok {
		items, _ := w.list("schedule", v, 1)
		for i, item := range items {
			if s, ok := w.scheduleV1(index("schedule", i), item); ok {
				cfg.Schedules = append(cfg.Schedules, s)
			}
		}
	}
	w.webhookBindings(top, &cfg)
	w.checkIncludes(top, &cfg)
	applyGroups(&cfg)
	return cfg
}

// onStartup reads the optional onStartup order (the same key in v0 and v1).
func (w *walker) onStartup(top map[string]any) *int {
	v, ok := top["onStartup"]
	if !ok {
		return nil
	}
	if n, ok := w.integer("onStartup", v); ok {
		return &n
	}
	return nil
}

func (w *walker) settings(path string, v any) *Settings {
	m, ok := w.object(path, v, "executionMinInterval", "executionBurst")
	if !ok {
		return nil
	}
	// shell-operator parses both keys unconditionally once settings exists,
	// so a settings block without one of them fails there too.
	s := &Settings{}
	good := true
	if raw, ok := m["executionMinInterval"]; !ok {
		w.fail(join(path, "executionMinInterval"), "required when settings is set")
		good = false
	} else if str, ok := w.str(join(path, "executionMinInterval"), raw); !ok {
		good = false
	} else if d, err := time.ParseDuration(str); err != nil {
		w.fail(join(path, "executionMinInterval"), "%v", err)
		good = false
	} else {
		s.ExecutionMinInterval = d
	}
	if raw, ok := m["executionBurst"]; !ok {
		w.fail(join(path, "executionBurst"), "required when settings is set")
		good = false
	} else if n, ok := w.integer(join(path, "executionBurst"), raw); !ok {
		good = false
	} else {
		s.ExecutionBurst = n
	}
	if !good {
		return nil
	}
	return s
}

func (w *walker) scheduleV1(path string, v any) (ScheduleBinding, bool) {
	m, ok := w.object(path, v, "name", "crontab", "allowFailure", "includeSnapshotsFrom", "queue", "group")
	if !ok {
		return ScheduleBinding{}, false
	}
	before := len(w.errs)
	s := ScheduleBinding{
		Name:         w.optStr(path, m, "name"),
		AllowFailure: w.optBool(path, m, "allowFailure", false),
		Queue:        w.optStr(path, m, "queue"),
		Group:        w.optStr(path, m, "group"),
	}
	if s.Name == "" {
		s.Name = DefaultScheduleName
	}
	if s.Queue == "" {
		s.Queue = DefaultQueue
	}
	if raw, ok := m["crontab"]; ok {
		s.Crontab = w.crontab(join(path, "crontab"), raw)
	} else {
		w.fail(join(path, "crontab"), "required")
	}
	if raw, ok := m["includeSnapshotsFrom"]; ok {
		s.IncludeSnapshotsFrom, _ = w.strList(join(path, "includeSnapshotsFrom"), raw, 1)
	}
	return s, len(w.errs) == before
}

// checkIncludes checks every includeSnapshotsFrom name refers to exactly
// one kubernetes binding of this hook.
func (w *walker) checkIncludes(top map[string]any, cfg *Config) {
	count := map[string]int{}
	for _, b := range cfg.Kubernetes {
		count[b.Name]++
	}
	check := func(path string, names []string) {
		for j, n := range names {
			switch count[n] {
			case 0:
				w.fail(index(join(path, "includeSnapshotsFrom"), j), "no kubernetes binding named %q", n)
			case 1:
			default:
				w.fail(index(join(path, "includeSnapshotsFrom"), j), "%d kubernetes bindings are named %q", count[n], n)
			}
		}
	}
	for i, b := range cfg.Kubernetes {
		check(index("kubernetes", i), b.IncludeSnapshotsFrom)
	}
	for i, s := range cfg.Schedules {
		check(index("schedule", i), s.IncludeSnapshotsFrom)
	}
	for i, b := range cfg.Validating {
		check(index(string(BindingValidating), i), b.IncludeSnapshotsFrom)
	}
	for i, b := range cfg.Mutating {
		check(index(string(BindingMutating), i), b.IncludeSnapshotsFrom)
	}
	for i, b := range cfg.Conversion {
		check(index(string(BindingConversion), i), b.IncludeSnapshotsFrom)
	}
	_ = top
}

// applyGroups adds every kubernetes binding of a group to the
// includeSnapshotsFrom of each binding in that group, keeping the binding's
// own names first and adding each name once.
func applyGroups(cfg *Config) {
	groups := map[string][]string{}
	for _, b := range cfg.Kubernetes {
		if b.Group != "" {
			groups[b.Group] = append(groups[b.Group], b.Name)
		}
	}
	for i := range cfg.Kubernetes {
		if names, ok := groups[cfg.Kubernetes[i].Group]; ok {
			cfg.Kubernetes[i].IncludeSnapshotsFrom = mergeNames(cfg.Kubernetes[i].IncludeSnapshotsFrom, names)
		}
	}
	for i := range cfg.Schedules {
		if names, ok := groups[cfg.Schedules[i].Group]; ok {
			cfg.Schedules[i].IncludeSnapshotsFrom = mergeNames(cfg.Schedules[i].IncludeSnapshotsFrom, names)
		}
	}
}

func mergeNames(own, more []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(own)+len(more))
	for _, list := range [][]string{own, more} {
		for _, n := range list {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// String describes the config briefly for logs.
func (c Config) String() string {
	return fmt.Sprintf("%s: onStartup=%v schedules=%d kubernetes=%d", c.Version, c.OnStartup != nil, len(c.Schedules), len(c.Kubernetes))
}
