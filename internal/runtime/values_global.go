package runtime

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"sync"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// globalValues are the "global" section every module and global hook sees:
// the modules directories' values.yaml global sections, the global schemas'
// defaults ($GLOBAL_HOOKS_DIR/openapi), the global settings, the global
// hooks' patches, and enabledModules.
type globalValues struct {
	schemas *values.Schemas
	static  map[string]any

	mu       sync.Mutex
	settings map[string]any
	patches  values.Patch
	enabled  []string
	dynamic  map[string]bool // <moduleKey>Enabled set by global hooks
	result   map[string]any
	sum      string
}

// newGlobalValues starts from static, the modules directories' values.yaml
// global sections (module.Set.GlobalStatic).
func newGlobalValues(globalHooksDir string, static map[string]any) (*globalValues, error) {
	g := &globalValues{schemas: &values.Schemas{}, static: static, settings: map[string]any{}}
	if globalHooksDir != "" {
		s, err := values.LoadSchemas(filepath.Join(globalHooksDir, "openapi"))
		if err != nil {
			return nil, fmt.Errorf("global values schemas: %w", err)
		}
		g.schemas = s
	}
	if err := g.recompute(g.settings, nil, nil); err != nil {
		return nil, fmt.Errorf("global values: %w", err)
	}
	return g, nil
}

func (g *globalValues) recompute(settings map[string]any, patches values.Patch, enabled []string) error {
	cfg := values.Merge(values.ApplyDefaults(g.schemas.Config, g.static), values.Merge(g.static, settings))
	if err := values.Validate(g.schemas.Config, values.GlobalKey, cfg); err != nil {
		return fmt.Errorf("global settings: %w", err)
	}
	res := values.ApplyDefaults(g.schemas.Values, cfg)
	if len(patches) > 0 {
		var err error
		if res, err = patches.ApplyLenient(values.GlobalKey, res); err != nil {
			return err
		}
	}
	if err := values.Validate(g.schemas.Values, values.GlobalKey, res); err != nil {
		return fmt.Errorf("global values: %w", err)
	}
	// Normalized once here: every module's values share this map (values.Build
	// does not copy it), so nothing may modify it after this point.
	res, err := values.Normalize(res)
	if err != nil {
		return fmt.Errorf("global values: %w", err)
	}
	if enabled != nil {
		res["enabledModules"] = toAnySlice(enabled)
	}
	g.settings, g.patches, g.enabled, g.result = settings, patches, enabled, res
	g.sum = checksum(res)
	return nil
}

func (g *globalValues) values() map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.result
}

// dynamicEnabled is the <moduleKey>Enabled flag global hooks set, if any.
func (g *globalValues) dynamicEnabled(key string) (bool, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.dynamic[key]
	return v, ok
}

func (g *globalValues) checksum() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sum
}

func (g *globalValues) setConfig(settings map[string]any) error {
	if settings == nil {
		settings = map[string]any{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.recompute(settings, g.patches, g.enabled)
}

func (g *globalValues) setEnabledModules(names []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.recompute(g.settings, g.patches, names); err != nil {
		// Unreachable in practice: the same inputs validated before. The
		// current map is shared with every module's values: replace it.
		res := maps.Clone(g.result)
		res["enabledModules"] = toAnySlice(names)
		g.result, g.enabled = res, names
	}
}

// globalIO hands a global hook the global values and takes its patches;
// a change made by a schedule or kubernetes run starts a converge.
type globalIO struct{ r *Runtime }

func (io *globalIO) Prepare(*engine.Hook) (map[string][]byte, []string, error) {
	g := io.r.global.vals
	g.mu.Lock()
	vals, err := json.Marshal(map[string]any{values.GlobalKey: g.result})
	if err == nil {
		var cfg []byte
		cfg, err = json.Marshal(map[string]any{values.GlobalKey: g.settings})
		g.mu.Unlock()
		return map[string][]byte{values.EnvValuesPath: vals, values.EnvConfigValuesPath: cfg},
			[]string{values.EnvValuesJSONPatchPath, values.EnvConfigValuesJSONPatchPath}, err
	}
	g.mu.Unlock()
	return nil, nil, err
}

func (io *globalIO) Check(_ *engine.Hook, out map[string][]byte) (func(), error) {
	g := io.r.global.vals
	vp, err := values.ParsePatch(values.EnvValuesJSONPatchPath, out[values.EnvValuesJSONPatchPath], values.GlobalKey, values.ScopeGlobal)
	if err != nil {
		return nil, err
	}
	cp, err := values.ParsePatch(values.EnvConfigValuesJSONPatchPath, out[values.EnvConfigValuesJSONPatchPath], values.GlobalKey, values.ScopeGlobal)
	if err != nil {
		return nil, err
	}
	if len(vp) == 0 && len(cp) == 0 {
		return func() {}, nil
	}
	g.mu.Lock()
	settings := g.settings
	if len(cp) > 0 {
		if settings, err = cp.Apply(values.GlobalKey, settings); err != nil {
			g.mu.Unlock()
			return nil, fmt.Errorf("%s: %w", values.EnvConfigValuesJSONPatchPath, err)
		}
	}
	vp, flags := vp.EnabledOps()
	dynamic := maps.Clone(g.dynamic)
	for key, v := range flags {
		if dynamic == nil {
			dynamic = map[string]bool{}
		}
		if v == nil {
			delete(dynamic, key)
		} else {
			dynamic[key] = *v
		}
	}
	trial := &globalValues{schemas: g.schemas, static: g.static}
	err = trial.recompute(settings, g.patches.Compact(vp), g.enabled)
	g.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", values.EnvValuesJSONPatchPath, err)
	}
	return func() {
		g.mu.Lock()
		before := g.sum
		flagsChanged := !maps.Equal(g.dynamic, dynamic)
		g.settings, g.patches, g.result, g.sum, g.dynamic = trial.settings, trial.patches, trial.result, trial.sum, dynamic
		g.mu.Unlock()
		if trial.sum != before || flagsChanged {
			io.r.requestConverge("global values changed")
		}
	}, nil
}
