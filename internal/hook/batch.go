package hook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// BatchConfigV1 is the only versioned format of a bundle's `hook config`.
const BatchConfigV1 = "v1"

// BatchConfig is the parsed `hook config` output of a module-sdk hook
// bundle: one Go binary holding several hooks, each run as
// `<binary> hook run <index>`.
type BatchConfig struct {
	// Version is "v1", or "" for the older bare-array format.
	Version string
	// Hooks are the bundle's hooks; an entry's position is its run index.
	Hooks []BatchEntry
	// Readiness is the module readiness probe (`<binary> hook ready`), a
	// scheduled hook patching the Module object; nil when absent. Discovery
	// does not turn it into a Hook.
	Readiness *BatchEntry
	// HasSettingsCheck says the binary answers `hook check` (a settings
	// validation deckhand does not call).
	HasSettingsCheck bool
}

// BatchEntry is one hook of a bundle: its module-sdk extras and its
// bindings in deckhand's own form.
type BatchEntry struct {
	BatchHook
	Config Config
}

// BatchHook is what a hook from a module-sdk bundle carries besides its
// bindings.
type BatchHook struct {
	// Index is the argument of `hook run`; -1 for the readiness hook.
	Index int
	// Name and Path are the entry's metadata: the Go hook's name and the
	// source folder it was built from.
	Name string
	Path string
	// AllowFailure is the hook-level allowFailure of the entry.
	AllowFailure bool
	// LogLevel is the entry's logLevel as written ("" when unset).
	LogLevel string
	// EnableSchedulesOnStartup is settings.enableSchedulesOnStartup:
	// schedules fire before the operator is ready.
	EnableSchedulesOnStartup bool
}

// ParseBatchConfig parses the `hook config` output of bundle (the name
// errors use, e.g. "hooks/batch"). Bindings are spelled as module-sdk's
// pkg/hook/dto.go writes them and are converted the way addon-operator
// does: executeHookOnEvent is a boolean (false: snapshot only), a missing
// keepFullObjectsInMemory means false, settings.executionMinInterval is a
// number of nanoseconds (a duration string is accepted too), and every
// kubernetes and schedule binding joins group "main", so each run sees the
// snapshots of all kubernetes bindings. Lifecycle orders are read for kind:
// beforeHelm/afterHelm/beforeDeleteHelm/afterDeleteHelm for module hooks,
// beforeHelm/afterHelm as beforeAll/afterAll for global hooks. Unknown keys
// are ignored, as module-sdk adds fields over time. All problems found are
// returned joined, each a *FieldError whose Field is a path into the output
// ("hooks[1].kubernetes[0].jqFilter").
func ParseBatchConfig(bundle string, data []byte, kind Kind) (*BatchConfig, error) {
	w := &walker{hook: bundle}
	dec := json.NewDecoder(bytes.NewReader(data))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		w.fail("", "hook config output is not valid JSON: %v", err)
		return nil, w.err()
	}
	if dec.More() {
		w.fail("", "hook config output has data after the JSON document")
		return nil, w.err()
	}
	cfg := &BatchConfig{}
	switch top := doc.(type) {
	case []any:
		// Older module-sdk printed the hooks as a bare array.
		cfg.Hooks = w.batchEntries("", top, kind)
	case map[string]any:
		if raw, ok := top["version"]; !ok {
			w.fail("version", "required")
		} else if v, ok := w.str("version", raw); ok {
			if w.enum("version", v, BatchConfigV1) {
				cfg.Version = v
			}
		}
		if raw, ok := top["hooks"]; !ok || raw == nil {
			w.fail("hooks", "required")
		} else if items, ok := w.list("hooks", raw, 0); ok {
			cfg.Hooks = w.batchEntries("hooks", items, kind)
		}
		if raw, ok := top["readiness"]; ok && raw != nil {
			if e, ok := w.batchEntry("readiness", -1, raw, kind); ok {
				cfg.Readiness = &e
			}
		}
		if raw, ok := top["has_settings_check"]; ok && raw != nil {
			cfg.HasSettingsCheck, _ = w.boolean("has_settings_check", raw)
		}
	default:
		w.fail("", "hook config output must be a JSON object or array, got %s", typeName(doc))
	}
	if err := w.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (w *walker) batchEntries(path string, items []any, kind Kind) []BatchEntry {
	entries := make([]BatchEntry, 0, len(items))
	for i, item := range items {
		if e, ok := w.batchEntry(index(path, i), i, item, kind); ok {
			entries = append(entries, e)
		}
	}
	return entries
}

// batchLifecycle maps the lifecycle keys of a bundle entry to binding types
// per hook kind (addon-operator reads a global hook's beforeAll from
// beforeHelm and afterAll from afterHelm).
func batchLifecycle(kind Kind) map[string]BindingType {
	switch kind {
	case KindModule:
		return map[string]BindingType{
			"beforeHelm": BindingBeforeHelm, "afterHelm": BindingAfterHelm,
			"beforeDeleteHelm": BindingBeforeDeleteHelm, "afterDeleteHelm": BindingAfterDeleteHelm,
		}
	case KindGlobal:
		return map[string]BindingType{"beforeHelm": BindingBeforeAll, "afterHelm": BindingAfterAll}
	}
	return nil
}

var batchLifecycleKeys = []string{"beforeHelm", "afterHelm", "beforeDeleteHelm", "afterDeleteHelm"}

// batchEntry reads one HookConfig of module-sdk's dto.go. The bindings are
// checked by the same code as a v1 --config, on a sub-walker whose field
// paths are then put under path.
func (w *walker) batchEntry(path string, idx int, v any, kind Kind) (BatchEntry, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		w.fail(path, "must be an object, got %s", typeName(v))
		return BatchEntry{}, false
	}
	before := len(w.errs)
	e := BatchEntry{BatchHook: BatchHook{Index: idx}, Config: Config{Version: ConfigV1}}
	if raw, ok := present(m, "configVersion"); ok {
		if s, ok := w.str(join(path, "configVersion"), raw); ok {
			w.enum(join(path, "configVersion"), s, ConfigV1)
		}
	}
	if raw, ok := present(m, "metadata"); ok {
		if md, ok := raw.(map[string]any); ok {
			e.Name = w.optStr(join(path, "metadata"), md, "name")
			e.Path = w.optStr(join(path, "metadata"), md, "path")
		} else {
			w.fail(join(path, "metadata"), "must be an object, got %s", typeName(raw))
		}
	}
	if raw, ok := present(m, "allowFailure"); ok {
		e.AllowFailure, _ = w.boolean(join(path, "allowFailure"), raw)
	}
	if raw, ok := present(m, "logLevel"); ok {
		e.LogLevel, _ = w.str(join(path, "logLevel"), raw)
	}
	if raw, ok := present(m, "onStartup"); ok {
		if n, ok := w.order(join(path, "onStartup"), raw); ok {
			e.Config.OnStartup = &n
		}
	}
	lifecycle := batchLifecycle(kind)
	for _, key := range batchLifecycleKeys {
		raw, ok := present(m, key)
		if !ok {
			continue
		}
		b, allowed := lifecycle[key]
		if !allowed {
			w.fail(join(path, key), "not a binding of %s hooks", kindName(kind))
			continue
		}
		if n, ok := w.order(join(path, key), raw); ok {
			if e.Config.Lifecycle == nil {
				e.Config.Lifecycle = map[BindingType]int{}
			}
			e.Config.Lifecycle[b] = n
		}
	}
	if raw, ok := present(m, "settings"); ok {
		e.Config.Settings, e.EnableSchedulesOnStartup = w.batchSettings(join(path, "settings"), raw)
	}

	// Bindings go through the v1 checks on their own walker, so their
	// paths ("kubernetes[0].jqFilter") can be put under this entry's.
	sub := &walker{hook: w.hook}
	if raw, ok := present(m, "kubernetes"); ok {
		items, _ := w.list(join(path, "kubernetes"), raw, 0)
		for i, item := range items {
			p := index("kubernetes", i)
			if b, ok := sub.kubernetesV1(p, sub.batchKubernetes(p, item)); ok {
				e.Config.Kubernetes = append(e.Config.Kubernetes, b)
			}
		}
	}
	if raw, ok := present(m, "schedule"); ok {
		items, _ := w.list(join(path, "schedule"), raw, 0)
		for i, item := range items {
			p := index("schedule", i)
			if s, ok := sub.scheduleV1(p, batchSchedule(item)); ok {
				e.Config.Schedules = append(e.Config.Schedules, s)
			}
		}
	}
	sub.checkIncludes(nil, &e.Config)
	applyGroups(&e.Config)
	for _, err := range sub.errs {
		if fe, ok := err.(*FieldError); ok {
			fe.Field = join(path, fe.Field)
		}
		w.errs = append(w.errs, err)
	}
	return e, len(w.errs) == before
}

// present returns m[key] unless it is absent or JSON null (an omitted
// pointer in older module-sdk output).
func present(m map[string]any, key string) (any, bool) {
	v, ok := m[key]
	return v, ok && v != nil
}

// order reads a lifecycle order: module-sdk writes them as uint.
func (w *walker) order(path string, v any) (int, bool) {
	n, ok := w.integer(path, v)
	if ok && n < 0 {
		w.fail(path, "must not be negative, got %d", n)
		return 0, false
	}
	return n, ok
}

// batchGroup is the group addon-operator puts every binding of a bundle
// hook in.
const batchGroup = "main"

// batchKubernetes turns a module-sdk KubernetesConfig into the keys the v1
// parser reads. A value it cannot convert is reported and dropped.
func (w *walker) batchKubernetes(path string, v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v // kubernetesV1 reports the type
	}
	out := map[string]any{"group": batchGroup, "keepFullObjectsInMemory": false}
	for _, key := range []string{
		"name", "apiVersion", "kind", "nameSelector", "namespace", "labelSelector", "fieldSelector",
		"executeHookOnSynchronization", "waitForSynchronization", "keepFullObjectsInMemory",
		"jqFilter", "allowFailure", "resynchronizationPeriod", "includeSnapshotsFrom", "queue",
	} {
		if raw, ok := present(m, key); ok {
			out[key] = raw
		}
	}
	// Empty name and queue mean the defaults, as in v1.
	for _, key := range []string{"name", "queue"} {
		if out[key] == "" {
			delete(out, key)
		}
	}
	if raw, ok := present(m, "executeHookOnEvent"); ok {
		switch ev := raw.(type) {
		case bool:
			if !ev {
				out["executeHookOnEvent"] = []any{}
			}
		case []any:
			// The shell-operator spelling: a list of event types.
			out["executeHookOnEvent"] = ev
		default:
			w.fail(join(path, "executeHookOnEvent"), "must be a boolean, got %s", typeName(raw))
		}
	}
	return out
}

// batchSchedule turns a module-sdk ScheduleConfig into v1 keys.
func batchSchedule(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{"group": batchGroup}
	for _, key := range []string{"name", "crontab", "queue"} {
		if raw, ok := present(m, key); ok {
			out[key] = raw
		}
	}
	// Empty name and queue mean the defaults, as in v1.
	for _, key := range []string{"name", "queue"} {
		if out[key] == "" {
			delete(out, key)
		}
	}
	return out
}

// batchSettings reads module-sdk's HookConfigSettings. A settings object
// with neither a interval nor a burst sets no rate limit.
func (w *walker) batchSettings(path string, v any) (*Settings, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		w.fail(path, "must be an object, got %s", typeName(v))
		return nil, false
	}
	s := &Settings{}
	if raw, ok := present(m, "executionMinInterval"); ok {
		s.ExecutionMinInterval = w.nanoseconds(join(path, "executionMinInterval"), raw)
	}
	if raw, ok := present(m, "executionBurst"); ok {
		if n, ok := w.order(join(path, "executionBurst"), raw); ok {
			s.ExecutionBurst = n
		}
	}
	var onStartup bool
	if raw, ok := present(m, "enableSchedulesOnStartup"); ok {
		onStartup, _ = w.boolean(join(path, "enableSchedulesOnStartup"), raw)
	}
	if s.ExecutionMinInterval == 0 && s.ExecutionBurst == 0 {
		s = nil
	}
	return s, onStartup
}

// nanoseconds reads a time.Duration as encoding/json writes it (integer
// nanoseconds), or a Go duration string.
func (w *walker) nanoseconds(path string, v any) time.Duration {
	switch d := v.(type) {
	case float64:
		if d < 0 || d != math.Trunc(d) || d >= math.MaxInt64 {
			w.fail(path, "must be a non-negative integer number of nanoseconds, got %s", strconv.FormatFloat(d, 'g', -1, 64))
			return 0
		}
		return time.Duration(d)
	case string:
		dur, err := time.ParseDuration(d)
		if err != nil {
			w.fail(path, "%v", err)
			return 0
		}
		if dur < 0 {
			w.fail(path, "must not be negative, got %s", d)
			return 0
		}
		return dur
	}
	w.fail(path, "must be a number of nanoseconds or a duration string, got %s", typeName(v))
	return 0
}

// kindName names a hook kind in error messages.
func kindName(k Kind) string {
	switch k {
	case KindModule:
		return "module"
	case KindGlobal:
		return "global"
	}
	return "shell-operator"
}

// batchHookName is the name addon-operator gives a bundle's hook:
// "<bundle>:<metadata.name>:<index>".
func batchHookName(bundle string, e BatchEntry) string {
	return fmt.Sprintf("%s:%s:%d", bundle, e.Name, e.Index)
}
