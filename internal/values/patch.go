package values

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

// Env vars of addon-operator's values protocol: hooks read VALUES_PATH and
// CONFIG_VALUES_PATH and write JSON patches to the other two.
const (
	EnvValuesPath                = "VALUES_PATH"
	EnvConfigValuesPath          = "CONFIG_VALUES_PATH"
	EnvValuesJSONPatchPath       = "VALUES_JSON_PATCH_PATH"
	EnvConfigValuesJSONPatchPath = "CONFIG_VALUES_JSON_PATCH_PATH"
)

// Scope says which paths a hook's patch may touch.
type Scope int

const (
	// ScopeModule: only /<moduleKey>/... (module hooks).
	ScopeModule Scope = iota
	// ScopeGlobal: /global/... and /<anything>Enabled (global hooks).
	ScopeGlobal
)

// Op is one operation of a values patch: add or remove.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// MarshalJSON keeps an add's value even when it is null.
func (o Op) MarshalJSON() ([]byte, error) {
	m := map[string]any{"op": o.Op, "path": o.Path}
	if o.Op == "add" {
		m["value"] = o.Value
	}
	return json.Marshal(m)
}

// Patch is a list of values patch operations, in order.
type Patch []Op

// PatchError is a patch file that cannot be taken; it names the file's env
// var and the operation.
type PatchError struct {
	Env string
	Op  int // 1-based; 0 when the file as a whole is bad
	Err error
}

func (e *PatchError) Error() string {
	if e.Op == 0 {
		return fmt.Sprintf("%s: %v", e.Env, e.Err)
	}
	return fmt.Sprintf("%s: operation %d: %v", e.Env, e.Op, e.Err)
}

func (e *PatchError) Unwrap() error { return e.Err }

// ParsePatch reads a values patch file as addon-operator does: a stream of
// JSON values, each an operation or an array of operations; only add and
// remove; paths inside the hook's scope (key is the module key for
// ScopeModule). An empty file is an empty patch.
func ParsePatch(env string, data []byte, key string, scope Scope) (Patch, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw []map[string]any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &PatchError{Env: env, Err: fmt.Errorf("invalid JSON: %w", err)}
		}
		switch t := v.(type) {
		case map[string]any:
			raw = append(raw, t)
		case []any:
			for _, e := range t {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, &PatchError{Env: env, Op: len(raw) + 1, Err: fmt.Errorf("want an object, got %T", e)}
				}
				raw = append(raw, m)
			}
		default:
			return nil, &PatchError{Env: env, Err: fmt.Errorf("want an operation or an array of operations, got %T", v)}
		}
	}
	out := make(Patch, 0, len(raw))
	for i, m := range raw {
		name, _ := m["op"].(string)
		path, _ := m["path"].(string)
		switch name {
		case "add", "remove":
		default:
			return nil, &PatchError{Env: env, Op: i + 1, Err: fmt.Errorf("op %q is not allowed (only add and remove)", name)}
		}
		if !inScope(path, key, scope) {
			where := "the module's values (/" + key + "/...)"
			if scope == ScopeGlobal {
				where = "the global values (/global/... or /<module>Enabled)"
			}
			return nil, &PatchError{Env: env, Op: i + 1, Err: fmt.Errorf("path %q is outside %s", path, where)}
		}
		val, hasValue := m["value"]
		if name == "add" && !hasValue {
			return nil, &PatchError{Env: env, Op: i + 1, Err: errors.New("add needs a value")}
		}
		v, err := normalizeAny(val)
		if err != nil {
			return nil, &PatchError{Env: env, Op: i + 1, Err: err}
		}
		out = append(out, Op{Op: name, Path: path, Value: v})
	}
	return out, nil
}

func inScope(path, key string, scope Scope) bool {
	if scope == ScopeGlobal {
		if strings.HasPrefix(path, "/"+GlobalKey+"/") || path == "/"+GlobalKey {
			return true
		}
		rest := strings.TrimPrefix(path, "/")
		return strings.HasSuffix(rest, "Enabled") && !strings.Contains(rest, "/") && len(rest) > len("Enabled")
	}
	return strings.HasPrefix(path, "/"+key+"/") || path == "/"+key
}

// EnabledOps splits a global hook's patch into the ops on global values and
// the <module>Enabled flags it sets (nil value: removed).
func (p Patch) EnabledOps() (values Patch, enabled map[string]*bool) {
	for _, op := range p {
		rest := strings.TrimPrefix(op.Path, "/")
		if strings.Contains(rest, "/") || rest == GlobalKey {
			values = append(values, op)
			continue
		}
		if enabled == nil {
			enabled = map[string]*bool{}
		}
		key := strings.TrimSuffix(rest, "Enabled")
		if b, ok := op.Value.(bool); ok && op.Op == "add" {
			enabled[key] = &b
		} else {
			enabled[key] = nil
		}
	}
	return values, enabled
}

// Apply applies p to section (the values under key) strictly, as a fresh
// patch: removing a missing path is an error. section is not modified.
func (p Patch) Apply(key string, section map[string]any) (map[string]any, error) {
	return p.apply(key, section, false)
}

// ApplyLenient applies p the way stored patches are replayed on freshly
// computed values: a remove of a missing path is skipped.
func (p Patch) ApplyLenient(key string, section map[string]any) (map[string]any, error) {
	return p.apply(key, section, true)
}

func (p Patch) apply(key string, section map[string]any, lenient bool) (map[string]any, error) {
	if len(p) == 0 {
		return section, nil
	}
	doc, err := json.Marshal(map[string]any{key: nonNilMap(section)})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	jp, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		return nil, err
	}
	opts := jsonpatch.NewApplyOptions()
	opts.AllowMissingPathOnRemove = lenient
	opts.EnsurePathExistsOnAdd = false
	out, err := jp.ApplyWithOptions(doc, opts)
	if err != nil {
		return nil, fmt.Errorf("applying values patch: %w", err)
	}
	var res map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		return nil, err
	}
	m, _ := res[key].(map[string]any)
	return Normalize(nonNilMap(m))
}

// Compact appends newer ops to the stored ones the way addon-operator keeps
// its patch list: a new op on a path drops older ops on that path and
// below it; the result is sorted by path (a parent before its children),
// so replaying it gives the values the hooks asked for.
func (p Patch) Compact(newer Patch) Patch {
	if len(newer) == 0 {
		return p
	}
	out := make(Patch, 0, len(p)+len(newer))
	out = append(out, p...)
	for _, op := range newer {
		kept := out[:0]
		for _, old := range out {
			if old.Path == op.Path || strings.HasPrefix(old.Path, op.Path+"/") {
				continue
			}
			kept = append(kept, old)
		}
		out = append(kept, op)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// normalizeAny turns json.Number and nested maps into what Normalize keeps.
func normalizeAny(v any) (any, error) {
	m, err := Normalize(map[string]any{"v": v})
	if err != nil {
		return nil, err
	}
	return m["v"], nil
}
