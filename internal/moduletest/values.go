package moduletest

import (
	"encoding/json"
	"fmt"

	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// caseValues are a case's values as the runtime computes them before the
// hook runs.
type caseValues struct {
	key    string
	global map[string]any
	config map[string]any // config values as the runtime stores them (CONFIG_VALUES_PATH)
	module map[string]any // merged module values (VALUES_PATH)
}

// buildValues layers the case's settings and values exactly as the runtime
// does (values.Build), then the case's values on top as the accumulated
// patches of earlier hook runs would be, validated against the values schema.
func buildValues(m *module.Module, c *Case, config map[string]any, kubeVersion string) (*caseValues, error) {
	global, err := values.Normalize(values.Merge(values.StubGlobal(kubeVersion), c.Global))
	if err != nil {
		return nil, fmt.Errorf("global values: %w", err)
	}
	res, err := values.Build(values.Input{
		ModuleName:     m.Name,
		Schemas:        m.Schemas,
		Static:         m.StaticValues,
		Config:         config,
		Global:         global,
		EnabledModules: []string{m.Name},
	})
	if err != nil {
		return nil, err
	}
	mod := res.Module
	if c.Values != nil {
		layer, err := values.Normalize(c.Values)
		if err != nil {
			return nil, fmt.Errorf("values: %w", err)
		}
		mod = values.Merge(mod, layer)
		if err := values.Validate(m.Schemas.Values, res.ModuleKey, mod); err != nil {
			return nil, fmt.Errorf("values (schema %s): %w", m.Schemas.ValuesFile, err)
		}
	}
	return &caseValues{key: res.ModuleKey, global: res.Global, config: res.Config, module: mod}, nil
}

// inputs are the files VALUES_PATH and CONFIG_VALUES_PATH point at.
func (v *caseValues) inputs() (map[string][]byte, error) {
	vals, err := json.Marshal(map[string]any{values.GlobalKey: v.global, v.key: v.module})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", values.EnvValuesPath, err)
	}
	cfg, err := json.Marshal(map[string]any{values.GlobalKey: map[string]any{}, v.key: v.config})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", values.EnvConfigValuesPath, err)
	}
	return map[string][]byte{values.EnvValuesPath: vals, values.EnvConfigValuesPath: cfg}, nil
}
