package values

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	oaerrors "github.com/go-openapi/errors"
	"github.com/go-openapi/spec"
	"github.com/go-openapi/strfmt"
	"github.com/go-openapi/validate"
)

// ValidationError lists every value that does not match a schema. Each problem
// names the field by its dotted path from Root.
type ValidationError struct {
	Root     string
	Problems []string
	// Fields are the problems that name a field, by path below Root, so a
	// caller can say where a bad value came from (a -f file, a --set flag).
	Fields []FieldProblem
}

// FieldProblem is one value that does not match its schema.
type FieldProblem struct {
	// Path is the field below the root, dotted ("" for the root itself).
	Path string
	// Message follows the path: `must be of type integer: "string"`.
	Message string
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
	return &ValidationError{Root: root, Problems: problems, Fields: fieldProblems(root, res.Errors)}
}

// WithSources returns e with each field problem prefixed by where its value
// came from, as source names it ("--set a=b", "values file x.yaml: line 3");
// problems source has no answer for (""), and all of them if some problem
// names no field, keep their plain form.
func (e *ValidationError) WithSources(source func(path string) string) *ValidationError {
	if source == nil || len(e.Fields) != len(e.Problems) {
		return e
	}
	out := &ValidationError{Root: e.Root, Fields: e.Fields, Problems: make([]string, 0, len(e.Fields))}
	for _, f := range e.Fields {
		from := ""
		if f.Path != "" {
			from = source(f.Path)
		}
		switch {
		case from != "":
			out.Problems = append(out.Problems, from+": "+f.Path+" "+f.Message)
		case f.Path == "":
			out.Problems = append(out.Problems, e.Root+" "+f.Message)
		default:
			out.Problems = append(out.Problems, e.Root+"."+f.Path+" "+f.Message)
		}
	}
	return out
}

// withSources applies source to a *ValidationError; other errors pass.
func withSources(err error, source func(path string) string) error {
	if ve, ok := err.(*ValidationError); ok && source != nil {
		return ve.WithSources(source)
	}
	return err
}

// fieldProblems picks the field and message out of go-openapi's errors.
func fieldProblems(root string, errs []error) []FieldProblem {
	seen := map[FieldProblem]bool{}
	var out []FieldProblem
	walk := func(err error) {
		var v *oaerrors.Validation
		if !errors.As(err, &v) {
			return
		}
		full := strings.Trim(v.Name, `"`)
		if v.Code() == oaerrors.UnallowedPropertyCode {
			full += "." + fmt.Sprint(v.Value)
		}
		msg := strings.ReplaceAll(v.Error(), " in body", "")
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, `"`+v.Name+`"`), v.Name)
		if v.Code() == oaerrors.UnallowedPropertyCode {
			msg = strings.TrimPrefix(msg, "."+fmt.Sprint(v.Value))
		}
		path := strings.TrimPrefix(strings.TrimPrefix(full, root), ".")
		fp := FieldProblem{Path: path, Message: strings.TrimSpace(msg)}
		if !seen[fp] {
			seen[fp] = true
			out = append(out, fp)
		}
	}
	leafErrors(errs, walk)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Message < out[j].Message
	})
	return out
}

func flatten(errs []error) []string {
	seen := map[string]bool{}
	var out []string
	walk := func(err error) {
		msg := strings.ReplaceAll(err.Error(), " in body", "")
		if !seen[msg] {
			seen[msg] = true
			out = append(out, msg)
		}
	}
	leafErrors(errs, walk)
	sort.Strings(out)
	return out
}

// leafErrors calls fn for each error of errs, descending into joined errors
// (go-openapi nests its results), so callers see only the leaves.
func leafErrors(errs []error, fn func(error)) {
	for _, err := range errs {
		if multi, ok := err.(interface{ Unwrap() []error }); ok {
			leafErrors(multi.Unwrap(), fn)
			continue
		}
		fn(err)
	}
}
