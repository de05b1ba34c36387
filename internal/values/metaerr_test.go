package values

import (
	"errors"
	"strings"
	"testing"
)

func TestMetaSchemaErrorsArePlainSentences(t *testing.T) {
	cases := []struct {
		doc   string
		line  int
		field string
		want  string
	}{
		{"type: object\nproperties:\n  replicas:\n    type: integr\n", 4, "properties.replicas.type",
			`"integr" is not a schema type: use one of array, boolean, integer, null, number, object, string`},
		{"type: object\nproperties:\n  a:\n    type: object\n    properties:\n      b:\n        minimum: abc\n", 7, "properties.a.properties.b.minimum",
			`must be a number, not "abc"`},
		{"type: object\nproperties:\n  a:\n    required: yes\n", 4, "properties.a.required",
			`must be a list of property names (e.g. required: [name]), not the boolean true`},
		{"type: object\nproperties:\n  a:\n    type:\n      - string\n      - nope\n", 6, "properties.a.type.1",
			`"nope" is not a schema type`},
		{"type: 5\n", 1, "type", `the number 5 is not a schema type`},
	}
	for _, tc := range cases {
		_, err := ParseSchema("openapi/config-values.yaml", []byte(tc.doc))
		var se *SchemaError
		if !errors.As(err, &se) {
			t.Fatalf("%q: error %v is not a SchemaError", tc.doc, err)
		}
		if se.Line != tc.line || se.Field != tc.field || !strings.HasPrefix(se.Err.Error(), tc.want) {
			t.Errorf("%q:\n got line %d field %q: %q\nwant line %d field %q: %q", tc.doc, se.Line, se.Field, se.Err, tc.line, tc.field, tc.want)
		}
	}
}

func TestMetaSchemaErrorListsEveryProblem(t *testing.T) {
	_, err := ParseSchema("s.yaml", []byte("type: object\nproperties:\n  a:\n    type: integr\n  b:\n    enum: 3\n"))
	want := `s.yaml:4: properties.a.type: "integr" is not a schema type: use one of array, boolean, integer, null, number, object, string (also: s.yaml:6: properties.b.enum: must be a list, not the number 3)`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
}

func TestLineOf(t *testing.T) {
	doc := []byte("# settings\nfoo:\n  bar: 1\n  list:\n    - a\n    - name: x\nbaz: 2\n")
	for _, tc := range []struct {
		path []string
		line int
	}{
		{[]string{"foo"}, 2},
		{[]string{"foo", "bar"}, 3},
		{[]string{"foo", "list", "1", "name"}, 6},
		{[]string{"baz"}, 7},
		{[]string{"foo", "missing"}, 2}, // the deepest part that exists
		{[]string{"nope"}, 0},
	} {
		if got := LineOf(doc, tc.path); got != tc.line {
			t.Errorf("LineOf(%v) = %d, want %d", tc.path, got, tc.line)
		}
	}
}

func TestValidationErrorFields(t *testing.T) {
	s, err := ParseSchema("x", []byte("type: object\nproperties:\n  replicas:\n    type: integer\n  foo:\n    type: object\n    properties:\n      bar: {type: integer}\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = Validate(s, "echoServer", map[string]any{"replicas": "abc", "foo": map[string]any{"bar": 1, "baz": 1}})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v", err)
	}
	want := []FieldProblem{{"foo.baz", "is a forbidden property"}, {"replicas", `must be of type integer: "string"`}}
	if len(ve.Fields) != len(want) || ve.Fields[0] != want[0] || ve.Fields[1] != want[1] {
		t.Fatalf("Fields = %+v, want %+v", ve.Fields, want)
	}
}
