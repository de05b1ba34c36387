package values

import "testing"

// FuzzParseSchema: any openapi/*.yaml gives a schema or an error naming
// the file, never a panic; a schema that parses applies its defaults to an
// empty object without panicking.
func FuzzParseSchema(f *testing.F) {
	for _, s := range []string{
		"type: object\nproperties:\n  replicas: {type: integer, default: 1, minimum: 1}\n",
		"x-extend: {schema: config-values.yaml}\ntype: object\nproperties:\n  internal: {type: object, default: {}}\n",
		"type: object\nrequired: [a]\nproperties:\n  a: {type: string, enum: [x, y]}\nadditionalProperties: false\n",
		"type: object\nx-deckhouse-validations: [{expression: 'self.a > 0', message: positive}]\nproperties: {a: {type: integer}}\n",
		"type: integr\n",
		"properties: [not, a, map]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSchema("openapi/config-values.yaml", data)
		if err != nil || s == nil {
			return
		}
		_ = ApplyDefaults(s, map[string]any{})
	})
}
