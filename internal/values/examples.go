package values

import (
	"fmt"
	"sort"

	"github.com/go-openapi/spec"
)

// ExampleError is an x-examples entry that its own schema rejects.
type ExampleError struct {
	// Field is the dotted schema path holding x-examples ("" for the top level).
	Field string
	// Index is the position of the example in the list.
	Index int
	Err   error
}

func (e *ExampleError) Error() string {
	where := "x-examples"
	if e.Field != "" {
		where = e.Field + ".x-examples"
	}
	return fmt.Sprintf("%s[%d]: %v", where, e.Index, e.Err)
}

// ValidateExamples checks every x-examples list in s against the schema node
// that declares it. Objects get defaults first, as a user's settings would.
func ValidateExamples(s *spec.Schema) []*ExampleError {
	var out []*ExampleError
	walkExamples(s, "", &out)
	return out
}

func walkExamples(s *spec.Schema, path string, out *[]*ExampleError) {
	if s == nil {
		return
	}
	if raw, ok := s.Extensions["x-examples"]; ok {
		list, isList := raw.([]any)
		if !isList {
			*out = append(*out, &ExampleError{Field: path, Err: fmt.Errorf("x-examples must be a list, got %T", raw)})
		}
		for i, ex := range list {
			v := ex
			if m, ok := ex.(map[string]any); ok {
				n, err := Normalize(m)
				if err == nil {
					v = ApplyDefaults(s, n)
				}
			}
			root := path
			if root == "" {
				root = "example"
			}
			if err := Validate(s, root, v); err != nil {
				*out = append(*out, &ExampleError{Field: path, Index: i, Err: err})
			}
		}
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := s.Properties[n]
		walkExamples(&p, join(path, n), out)
	}
	if s.Items != nil && s.Items.Schema != nil {
		walkExamples(s.Items.Schema, path+"[]", out)
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
