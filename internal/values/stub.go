package values

import "github.com/go-openapi/spec"

// StubRequired returns a copy of v where every value the schema requires but v
// lacks is filled with a placeholder: the default, the first x-examples entry,
// the example, the first enum value, or a typed zero ("stub" for strings,
// the minimum for numbers). Offline renders use it with the helm schema for
// x-required-for-helm values that hooks would set at runtime.
func StubRequired(s *spec.Schema, v map[string]any) map[string]any {
	out, _ := deepCopy(v).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if s != nil {
		stubObject(s, out)
	}
	return out
}

// InternalKey is the module values section hooks own: addon-operator's
// convention for values set by hooks, never by users.
const InternalKey = "internal"

// StubRequiredInternal is StubRequired for the internal section alone: the
// values under internal that the schema requires (required or, with the helm
// schema, x-required-for-helm) and v lacks get placeholders. Hooks set them
// at runtime, so an offline render fills them in rather than fail; what a
// user must set is left to StubRequired and the schema. internal is created
// when it is missing and something in it is required.
func StubRequiredInternal(s *spec.Schema, v map[string]any) map[string]any {
	out, _ := deepCopy(v).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if s == nil {
		return out
	}
	prop, declared := s.Properties[InternalKey]
	if !declared {
		return out
	}
	if cur, set := out[InternalKey]; set {
		if obj, ok := cur.(map[string]any); ok {
			stubObject(&prop, obj)
		}
		return out // not an object: the schema check says so
	}
	obj := map[string]any{}
	stubObject(&prop, obj)
	if len(obj) > 0 || contains(s.Required, InternalKey) {
		out[InternalKey] = obj
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func stubObject(s *spec.Schema, obj map[string]any) {
	for _, name := range s.Required {
		if _, ok := obj[name]; ok {
			continue
		}
		prop, declared := s.Properties[name]
		if !declared {
			obj[name] = "stub"
			continue
		}
		obj[name] = placeholder(&prop)
	}
	for name, prop := range s.Properties {
		if child, ok := obj[name].(map[string]any); ok {
			stubObject(&prop, child)
		}
	}
}

func placeholder(s *spec.Schema) any {
	if s.Default != nil {
		return deepCopy(normalizeDefault(s.Default))
	}
	if list, ok := s.Extensions["x-examples"].([]any); ok && len(list) > 0 {
		return deepCopy(list[0])
	}
	if s.Example != nil {
		return deepCopy(s.Example)
	}
	if len(s.Enum) > 0 {
		return deepCopy(s.Enum[0])
	}
	typ := ""
	if len(s.Type) > 0 {
		typ = s.Type[0]
	}
	switch {
	case typ == "object" || (typ == "" && len(s.Properties) > 0):
		obj := map[string]any{}
		stubObject(s, obj)
		return obj
	case typ == "array":
		return []any{}
	case typ == "boolean":
		return false
	case typ == "integer" || typ == "number":
		if s.Minimum != nil {
			return *s.Minimum
		}
		return float64(0)
	default:
		return "stub"
	}
}
