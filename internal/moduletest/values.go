package moduletest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// Env vars of the addon-operator values protocol (hooks-and-values.md §2.2).
const (
	EnvValuesPath                = "VALUES_PATH"
	EnvConfigValuesPath          = "CONFIG_VALUES_PATH"
	EnvValuesJSONPatchPath       = "VALUES_JSON_PATCH_PATH"
	EnvConfigValuesJSONPatchPath = "CONFIG_VALUES_JSON_PATCH_PATH"
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
	global := values.Merge(values.StubGlobal(kubeVersion), c.Global)
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
		return nil, fmt.Errorf("encoding %s: %w", EnvValuesPath, err)
	}
	cfg, err := json.Marshal(map[string]any{values.GlobalKey: map[string]any{}, v.key: v.config})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", EnvConfigValuesPath, err)
	}
	return map[string][]byte{EnvValuesPath: vals, EnvConfigValuesPath: cfg}, nil
}

// parsePatch reads a values patch file: a stream of JSON values, each an
// operation or an array of operations. Only add and remove are allowed,
// on paths inside the module's section (hooks-and-values.md §3.4).
func parsePatch(env string, data []byte, key string) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var ops []map[string]any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: invalid JSON: %w", env, err)
		}
		switch t := v.(type) {
		case map[string]any:
			ops = append(ops, t)
		case []any:
			for _, e := range t {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s: operation %d: want an object, got %T", env, len(ops)+1, e)
				}
				ops = append(ops, m)
			}
		default:
			return nil, fmt.Errorf("%s: want an operation or an array of operations, got %T", env, v)
		}
	}
	for i, op := range ops {
		name, _ := op["op"].(string)
		path, _ := op["path"].(string)
		switch name {
		case "add", "remove":
		default:
			return nil, fmt.Errorf("%s: operation %d: op %q is not allowed (only add and remove)", env, i+1, name)
		}
		if !strings.HasPrefix(path, "/"+key+"/") && path != "/"+key {
			return nil, fmt.Errorf("%s: operation %d: path %q is outside the module's values (/%s/...)", env, i+1, path, key)
		}
	}
	return ops, nil
}

// applyPatch applies ops to section (the module's values or settings) and
// returns the new section; section is not modified.
func applyPatch(key string, section map[string]any, ops []map[string]any) (map[string]any, error) {
	if len(ops) == 0 {
		return section, nil
	}
	doc, err := json.Marshal(map[string]any{key: section})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	patch, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		return nil, err
	}
	out, err := patch.Apply(doc)
	if err != nil {
		return nil, err
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, err
	}
	m, _ := res[key].(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return values.Normalize(m)
}
