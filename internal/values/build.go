package values

import (
	"fmt"
	"maps"
	"sort"
)

// Input is everything the runtime layers into one module's values.
type Input struct {
	// ModuleName is the kebab-case module name; its camelCase key names the section.
	ModuleName string
	// Schemas of the module; nil means no schemas (nothing defaulted or validated).
	Schemas *Schemas
	// CommonStatic is <MODULES_DIR>/values.yaml (the whole document) shared by
	// all modules; its <moduleKey> section is the lowest layer.
	CommonStatic map[string]any
	// Static is the module's own values.yaml file (the whole document); only its
	// <moduleKey> section is used, as addon-operator does.
	Static map[string]any
	// Config are the user settings (ModuleConfig spec.settings or the ConfigMap section).
	Config map[string]any
	// Global are the global values. They are shared, not copied: Result.Global
	// is this map (or a shallow copy when EnabledModules is set), so the
	// caller normalizes it once (Normalize) and never modifies it afterwards.
	// The runtime hands every module the same map; copying it per module made
	// memory grow with modules squared (global.enabledModules lists them all).
	Global map[string]any
	// EnabledModules becomes global.enabledModules (sorted); nil leaves Global untouched.
	EnabledModules []string
	// Registry, for a module from a ModuleSource, is injected as the static
	// <moduleKey>.registry section, and the schemas accept it.
	Registry *Registry
	// ConfigSource, when set, names where the Config value at a dotted path
	// came from ("--set a=b", "values file x.yaml: line 3", or "" if unknown);
	// validation problems with that value then lead with it.
	ConfigSource func(path string) string
	// StubInternal fills required values under internal with placeholders
	// (StubRequiredInternal with the helm schema) before the values schema
	// check: offline renders have no hooks to set them. The runtime leaves it
	// false.
	StubInternal bool
}

// Result is one module's computed values.
type Result struct {
	// ModuleKey is the camelCase section name ("echoServer").
	ModuleKey string
	// Config are the static values.yaml sections merged with the user settings,
	// without schema defaults: what addon-operator stores as the module's config
	// values and shows a hook in CONFIG_VALUES_PATH.
	Config map[string]any
	// Module are the merged module values (what VALUES_PATH shows under ModuleKey).
	Module map[string]any
	// Global are the global values: Input.Global, shared. Read only.
	Global map[string]any
}

// Build computes a module's values in addon-operator's order: the static
// values.yaml sections (modules directory, then module), config schema defaults, config values, values schema
// defaults. Settings are validated against the config schema and the result
// against the values schema; errors name the module key and the field.
func Build(in Input) (*Result, error) {
	key, err := ModuleKey(in.ModuleName)
	if err != nil {
		return nil, err
	}
	schemas := in.Schemas
	if schemas == nil {
		schemas = &Schemas{}
	}
	common, err := section(in.CommonStatic, key)
	if err != nil {
		return nil, fmt.Errorf("modules directory %w", err)
	}
	own, err := section(in.Static, key)
	if err != nil {
		return nil, err
	}
	static := Merge(common, own)
	config, err := Normalize(nonNil(in.Config))
	if err != nil {
		return nil, fmt.Errorf("settings of module %s: %w", in.ModuleName, err)
	}
	// addon-operator stores static values + settings, without schema defaults,
	// as the module's config values, and validates them with the config
	// schema's defaults applied.
	configView := Merge(static, config)
	withDefaults := Merge(ApplyDefaults(schemas.Config, static), configView)
	if err := Validate(schemas.Config, key, withDefaults); err != nil {
		return nil, fmt.Errorf("settings of module %s (schema %s): %w", in.ModuleName, schemas.ConfigFile, withSources(err, in.ConfigSource))
	}
	if in.Registry != nil {
		// a static section of the module values, outside the settings schema
		withDefaults["registry"] = in.Registry.values()
		schemas = schemas.WithRegistry()
	}
	module := ApplyDefaults(schemas.Values, withDefaults)
	if in.StubInternal {
		module = StubRequiredInternal(schemas.Helm, module)
	}
	if err := Validate(schemas.Values, key, module); err != nil {
		return nil, fmt.Errorf("values of module %s (schema %s): %w", in.ModuleName, schemas.ValuesFile, withSources(err, in.ConfigSource))
	}
	global := nonNil(in.Global)
	if in.EnabledModules != nil {
		global = maps.Clone(global) // the caller's map stays as it was
		global["enabledModules"] = toAny(in.EnabledModules)
	}
	return &Result{ModuleKey: key, Config: configView, Module: module, Global: global}, nil
}

// ForHelm is the values tree Helm renders with, {"global": ..., "<moduleKey>": ...},
// checked against the helm schema (values schema plus x-required-for-helm).
func (r *Result) ForHelm(s *Schemas) (map[string]any, error) {
	if s != nil {
		if _, injected := r.Module["registry"]; injected {
			s = s.WithRegistry()
		}
		if err := Validate(s.Helm, r.ModuleKey, r.Module); err != nil {
			return nil, fmt.Errorf("values for Helm (schema %s with x-required-for-helm): %w", s.ValuesFile, err)
		}
	}
	return Merge(map[string]any{GlobalKey: r.Global, r.ModuleKey: r.Module}), nil
}

func section(doc map[string]any, key string) (map[string]any, error) {
	if doc == nil || doc[key] == nil {
		return map[string]any{}, nil
	}
	m, ok := doc[key].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("values.yaml: section %q must be an object, got %T", key, doc[key])
	}
	return Normalize(m)
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func toAny(names []string) []any {
	sorted := append([]string{}, names...)
	sort.Strings(sorted)
	out := make([]any, len(sorted))
	for i, n := range sorted {
		out[i] = n
	}
	return out
}
