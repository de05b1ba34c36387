package hook

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// FieldError is one problem in a hook's configuration. It names the hook (its
// path as shown to users, e.g. "hooks/002-pods/hook.sh") and the field path
// (e.g. "kubernetes[1].labelSelector.matchExpressions[0].operator").
type FieldError struct {
	Hook    string
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Hook + ": " + e.Message
	}
	return e.Hook + ": " + e.Field + ": " + e.Message
}

// walker reads an untyped decoded document (maps, slices, float64, string,
// bool, nil) and collects FieldErrors with precise paths instead of stopping
// at the first one.
type walker struct {
	hook string
	errs []error
}

func (w *walker) fail(path, format string, args ...any) {
	w.errs = append(w.errs, &FieldError{Hook: w.hook, Field: path, Message: fmt.Sprintf(format, args...)})
}

func (w *walker) err() error { return errors.Join(w.errs...) }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// object checks v is a map and has only the allowed keys.
func (w *walker) object(path string, v any, allowed ...string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		w.fail(path, "must be an object, got %s", typeName(v))
		return nil, false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			w.fail(join(path, k), "unknown field (allowed: %s)", strings.Join(allowed, ", "))
		}
	}
	return m, true
}

func (w *walker) str(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		w.fail(path, "must be a string, got %s", typeName(v))
	}
	return s, ok
}

func (w *walker) boolean(path string, v any) (bool, bool) {
	b, ok := v.(bool)
	if !ok {
		w.fail(path, "must be a boolean, got %s", typeName(v))
	}
	return b, ok
}

func (w *walker) integer(path string, v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		w.fail(path, "must be an integer, got %s", describe(v))
		return 0, false
	}
	return int(f), true
}

func describe(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("%v", f)
	}
	return typeName(v)
}

func (w *walker) list(path string, v any, minItems int) ([]any, bool) {
	l, ok := v.([]any)
	if !ok {
		w.fail(path, "must be an array, got %s", typeName(v))
		return nil, false
	}
	if len(l) < minItems {
		w.fail(path, "must have at least %d item(s)", minItems)
		return nil, false
	}
	return l, true
}

func (w *walker) strList(path string, v any, minItems int) ([]string, bool) {
	l, ok := w.list(path, v, minItems)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	good := true
	for i, item := range l {
		s, ok := w.str(index(path, i), item)
		good = good && ok
		out = append(out, s)
	}
	return out, good
}

// enum checks s is one of allowed.
func (w *walker) enum(path, s string, allowed ...string) bool {
	if slices.Contains(allowed, s) {
		return true
	}
	w.fail(path, "unsupported value %q (allowed: %s)", s, strings.Join(allowed, ", "))
	return false
}

// optStr reads an optional string key; absent gives "".
func (w *walker) optStr(path string, m map[string]any, key string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	s, _ := w.str(join(path, key), v)
	return s
}

// optBool reads an optional boolean key; absent gives def.
func (w *walker) optBool(path string, m map[string]any, key string, def bool) bool {
	v, ok := m[key]
	if !ok {
		return def
	}
	b, ok := w.boolean(join(path, key), v)
	if !ok {
		return def
	}
	return b
}
