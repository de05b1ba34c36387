package values

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-openapi/spec"
	"github.com/go-openapi/strfmt"
	"github.com/go-openapi/validate"
)

// ValidationError lists every value that does not match a schema. Each problem
// names the field by its dotted path from Root.
type ValidationError struct {
	Root     string
	Problems []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s values are invalid: %s", e.Root, strings.Join(e.Problems, "; "))
}

// Validate checks v against s; root names the tree in messages ("echoServer",
// "settings"). A nil schema accepts everything.
func Validate(s *spec.Schema, root string, v any) error {
	if s == nil {
		return nil
	}
	res := validate.NewSchemaValidator(s, nil, root, strfmt.Default).Validate(v)
	if res.IsValid() {
		return nil
	}
	problems := flatten(res.Errors)
	return &ValidationError{Root: root, Problems: problems}
}

func flatten(errs []error) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(error)
	walk = func(err error) {
		if multi, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range multi.Unwrap() {
				walk(e)
			}
			return
		}
		msg := strings.ReplaceAll(err.Error(), " in body", "")
		if !seen[msg] {
			seen[msg] = true
			out = append(out, msg)
		}
	}
	for _, e := range errs {
		walk(e)
	}
	sort.Strings(out)
	return out
}

func joinResult(errs []error) error {
	return errors.New(strings.Join(flatten(errs), "; "))
}
