package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// moduleValues are one module's values, kept the way addon-operator keeps
// them: the layers of values.Build (static values.yaml sections, config
// schema defaults, the settings, values schema defaults) plus the values
// patches hooks wrote, replayed on top. Every change is computed aside and
// validated before it replaces the current values.
type moduleValues struct {
	mod         *module.Module
	common      map[string]any // the modules directory's values.yaml
	registry    *values.Registry
	conversions *values.Conversions

	mu       sync.Mutex
	settings map[string]any // last good settings (converted to the current version)
	patches  values.Patch   // accumulated VALUES_JSON_PATCH_PATH operations
	global   map[string]any // global values of the last computation
	result   *values.Result
	sum      string
}

func newModuleValues(m *module.Module, common map[string]any, reg *values.Registry) (*moduleValues, error) {
	conv, err := values.LoadConversions(m.Dir)
	if err != nil {
		return nil, err
	}
	mv := &moduleValues{mod: m, common: common, registry: reg, conversions: conv, settings: map[string]any{}}
	if err := mv.recompute(mv.settings, mv.patches, map[string]any{}); err != nil {
		// Defaults alone break the schema: the module cannot run until its
		// settings fix that; it is reported when it is enabled.
		mv.result = &values.Result{ModuleKey: m.ValuesKey, Config: map[string]any{}, Module: map[string]any{}, Global: map[string]any{}}
	}
	return mv, nil
}

// recompute builds the values from settings, patches and global values and
// installs them only when the result validates.
func (v *moduleValues) recompute(settings map[string]any, patches values.Patch, global map[string]any) error {
	res, err := values.Build(values.Input{
		ModuleName:   v.mod.Name,
		Schemas:      v.mod.Schemas,
		CommonStatic: v.common,
		Static:       v.mod.StaticValues,
		Config:       settings,
		Global:       global,
		Registry:     v.registry,
	})
	if err != nil {
		return err
	}
	if len(patches) > 0 {
		mod, err := patches.ApplyLenient(res.ModuleKey, res.Module)
		if err != nil {
			return err
		}
		schema := v.mod.Schemas.Values
		if v.registry != nil {
			schema = v.mod.Schemas.WithRegistry().Values // the injected section is part of the values
		}
		if err := values.Validate(schema, res.ModuleKey, mod); err != nil {
			return fmt.Errorf("values of module %s (schema %s): %w", v.mod.Name, v.mod.Schemas.ValuesFile, err)
		}
		res.Module = mod
	}
	v.settings, v.patches, v.global, v.result = settings, patches, global, res
	v.sum = checksum(map[string]any{values.GlobalKey: res.Global, res.ModuleKey: res.Module})
	return nil
}

// setConfig converts settings written for an older version up the module's
// conversions chain, validates them (with their CEL rules) and takes them.
// It returns the settings version now in use.
func (v *moduleValues) setConfig(settings map[string]any, version int) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	converted, to, err := v.convertAndCheck(settings, version)
	if err != nil {
		return to, err
	}
	return to, v.recompute(converted, v.patches, v.global)
}

// checkConfig is setConfig that takes nothing: would these settings be
// accepted (an admission check)?
func (v *moduleValues) checkConfig(settings map[string]any, version int) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	converted, _, err := v.convertAndCheck(settings, version)
	if err != nil {
		return err
	}
	_, err = values.Build(values.Input{
		ModuleName: v.mod.Name, Schemas: v.mod.Schemas, CommonStatic: v.common, Static: v.mod.StaticValues,
		Config: converted, Global: v.global, Registry: v.registry,
	})
	return err
}

// convertAndCheck converts settings to the current version and checks
// their CEL rules (oldSelf: the settings in use, once there are some).
func (v *moduleValues) convertAndCheck(settings map[string]any, version int) (map[string]any, int, error) {
	if settings == nil {
		settings = map[string]any{}
	}
	converted, to, err := v.conversions.Convert(settings, version)
	if err != nil {
		return nil, 0, err
	}
	// Rules see the settings with their defaults, as the schema does.
	var old map[string]any
	if len(v.settings) > 0 {
		old = values.ApplyDefaults(v.mod.Schemas.Config, v.settings)
	}
	if err := values.ValidateRules(v.mod.Schemas.Config, values.ApplyDefaults(v.mod.Schemas.Config, converted), old); err != nil {
		return nil, to, fmt.Errorf("settings of module %s: %w", v.mod.Name, err)
	}
	return converted, to, nil
}

// withGlobal recomputes with new global values (a global hook or the
// enabled set changed); an error keeps the old values.
func (v *moduleValues) withGlobal(global map[string]any) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.recompute(v.settings, v.patches, global)
}

// reset drops the hooks' patches (the module was disabled).
func (v *moduleValues) reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	_ = v.recompute(v.settings, nil, v.global)
}

func (v *moduleValues) checksum() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.sum
}

// forHelm is {"global": ..., "<key>": ...} checked with the helm schema
// (x-required-for-helm).
func (v *moduleValues) forHelm(global map[string]any) (map[string]any, error) {
	if err := v.withGlobal(global); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.result.ForHelm(v.mod.Schemas)
}

// inputs are the VALUES_PATH and CONFIG_VALUES_PATH files of a run, with
// the given global values.
func (v *moduleValues) inputs(global map[string]any) (map[string][]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := v.result.ModuleKey
	vals, err := json.Marshal(map[string]any{values.GlobalKey: global, key: v.result.Module})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", values.EnvValuesPath, err)
	}
	cfg, err := json.Marshal(map[string]any{values.GlobalKey: map[string]any{}, key: v.result.Config})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", values.EnvConfigValuesPath, err)
	}
	return map[string][]byte{values.EnvValuesPath: vals, values.EnvConfigValuesPath: cfg}, nil
}

// moduleIO hands a module hook its values files and takes its values
// patches: validated first, committed only once the run's other outputs
// were applied. A change outside a converge re-runs the module (Helm sees
// the new values).
type moduleIO struct {
	r *Runtime
	s *moduleState
}

func (io *moduleIO) Prepare(*engine.Hook) (map[string][]byte, []string, error) {
	in, err := io.s.vals.inputs(io.r.global.values())
	return in, []string{values.EnvValuesJSONPatchPath, values.EnvConfigValuesJSONPatchPath}, err
}

func (io *moduleIO) Check(_ *engine.Hook, out map[string][]byte) (func(), error) {
	v := io.s.vals
	key := io.s.mod.ValuesKey
	vp, err := values.ParsePatch(values.EnvValuesJSONPatchPath, out[values.EnvValuesJSONPatchPath], key, values.ScopeModule)
	if err != nil {
		return nil, err
	}
	cp, err := values.ParsePatch(values.EnvConfigValuesJSONPatchPath, out[values.EnvConfigValuesJSONPatchPath], key, values.ScopeModule)
	if err != nil {
		return nil, err
	}
	if len(vp) == 0 && len(cp) == 0 {
		return func() {}, nil
	}
	v.mu.Lock()
	settings := v.settings
	if len(cp) > 0 {
		if settings, err = cp.Apply(key, settings); err != nil {
			v.mu.Unlock()
			return nil, fmt.Errorf("%s: %w", values.EnvConfigValuesJSONPatchPath, err)
		}
	}
	patches := v.patches.Compact(vp)
	// Dry run on a copy: the current values stay until commit.
	trial := &moduleValues{mod: v.mod, common: v.common, registry: v.registry, conversions: v.conversions}
	err = trial.recompute(settings, patches, v.global)
	v.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", values.EnvValuesJSONPatchPath, err)
	}
	return func() {
		v.mu.Lock()
		before := v.sum
		v.settings, v.patches, v.result, v.sum = trial.settings, trial.patches, trial.result, trial.sum
		v.mu.Unlock()
		if trial.sum != before {
			io.r.onModuleValuesChanged(io.s)
		}
	}, nil
}

// onModuleValuesChanged re-runs a module whose values a hook changed
// outside its converge (a kubernetes event or a schedule).
func (r *Runtime) onModuleValuesChanged(s *moduleState) {
	s.mu.Lock()
	absorbed := s.inConverge
	s.mu.Unlock()
	if !absorbed {
		r.enqueueReconcile(s)
	}
}

func checksum(v any) string {
	raw, _ := json.Marshal(v)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}
