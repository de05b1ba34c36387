package values

import "github.com/go-openapi/spec"

// ApplyDefaults returns a copy of v with the schema's default values filled in
// where a key is missing, walking nested objects and array items the way
// addon-operator does. v itself is not modified.
func ApplyDefaults(s *spec.Schema, v map[string]any) map[string]any {
	out, _ := deepCopy(v).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if s != nil {
		fillObject(s, out)
	}
	return out
}

func fillObject(s *spec.Schema, obj map[string]any) {
	for name, prop := range s.Properties {
		cur, present := obj[name]
		if !present && prop.Default != nil {
			cur = deepCopy(normalizeDefault(prop.Default))
			obj[name] = cur
		}
		fillValue(&prop, cur)
	}
	for _, sub := range s.AllOf {
		fillObject(&sub, obj)
	}
}

func fillValue(s *spec.Schema, v any) {
	switch t := v.(type) {
	case map[string]any:
		fillObject(s, t)
		if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
			for k, e := range t {
				if _, declared := s.Properties[k]; !declared {
					fillValue(s.AdditionalProperties.Schema, e)
				}
			}
		}
	case []any:
		if s.Items != nil && s.Items.Schema != nil {
			for _, e := range t {
				fillValue(s.Items.Schema, e)
			}
		}
	}
}

// normalizeDefault gives defaults the same JSON shapes as values read from YAML.
func normalizeDefault(v any) any {
	if m, ok := v.(map[string]any); ok {
		if n, err := Normalize(m); err == nil {
			return n
		}
	}
	return v
}
