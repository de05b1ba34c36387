package values

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	oaerrors "github.com/go-openapi/errors"
)

// schemaTypes are the values JSON Schema allows for "type".
var schemaTypes = []string{"array", "boolean", "integer", "null", "number", "object", "string"}

var (
	mustBeOfType = regexp.MustCompile(`must be of type (\w+)`)
	quotedPath   = regexp.MustCompile(`^"([^"]*)" (.*)$`)
)

func allCombinators(msgs []string) bool {
	for _, m := range msgs {
		if !strings.Contains(m, "must validate") {
			return false
		}
	}
	return true
}

// metaSchemaError turns the meta-schema validator's errors about a schema
// document into plain sentences, each with the line and the field: the
// validator's own words ("must validate at least one schema (anyOf)") name
// the meta-schema's structure, not the author's mistake.
func metaSchemaError(file string, data []byte, raw map[string]any, errs []error) error {
	byPath := map[string][]string{}
	walk := func(err error) {
		var v *oaerrors.Validation
		if !errors.As(err, &v) {
			// composite errors ("x" must validate ... (anyOf)) carry the path in the text
			msg := strings.ReplaceAll(err.Error(), " in body", "")
			if m := quotedPath.FindStringSubmatch(msg); m != nil {
				byPath[strings.Trim(m[1], ".")] = append(byPath[strings.Trim(m[1], ".")], m[2])
			} else {
				byPath[""] = append(byPath[""], msg)
			}
			return
		}
		path := strings.Trim(strings.Trim(v.Name, `"`), ".")
		msg := strings.ReplaceAll(v.Error(), " in body", "")
		msg = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(msg, `"`+v.Name+`"`), v.Name))
		byPath[path] = append(byPath[path], msg)
	}
	leafErrors(errs, walk)
	// "must validate (anyOf)" about a node whose child has a real problem
	// says nothing more.
	for path, msgs := range byPath {
		if !allCombinators(msgs) {
			continue
		}
		for other := range byPath {
			if strings.HasPrefix(other, path+".") || path == "" && other != "" {
				delete(byPath, path)
				break
			}
		}
	}
	var problems []*SchemaError
	for path, msgs := range byPath {
		var segs []string
		if path != "" {
			segs = strings.Split(path, ".")
		}
		value, found := lookup(raw, segs)
		problems = append(problems, &SchemaError{
			File:  file,
			Line:  LineOf(data, segs),
			Field: path,
			Err:   errors.New(metaSentence(segs, value, found, msgs)),
		})
	}
	sort.Slice(problems, func(i, j int) bool {
		if problems[i].Line != problems[j].Line {
			return problems[i].Line < problems[j].Line
		}
		return problems[i].Field < problems[j].Field
	})
	first := problems[0]
	if len(problems) > 1 {
		var more []string
		for _, p := range problems[1:] {
			more = append(more, p.Error())
		}
		first.Err = fmt.Errorf("%w (also: %s)", first.Err, strings.Join(more, "; "))
	}
	return first
}

// metaSentence says what is wrong with value at the schema keyword path.
func metaSentence(path []string, value any, found bool, msgs []string) string {
	keyword := ""
	if len(path) > 0 {
		keyword = path[len(path)-1]
	}
	if _, err := strconv.Atoi(keyword); err == nil && len(path) > 1 && path[len(path)-2] == "type" {
		// one entry of a type list
		path, keyword = path[:len(path)-1], "type"
	}
	if keyword == "type" && found && (len(path) < 2 || path[len(path)-2] != "properties") {
		for _, t := range asList(value) {
			if s, ok := t.(string); !ok || !slices.Contains(schemaTypes, s) {
				return fmt.Sprintf("%s is not a schema type: use one of %s", describe(t), strings.Join(schemaTypes, ", "))
			}
		}
	}
	for _, m := range msgs {
		if sub := mustBeOfType.FindStringSubmatch(m); sub != nil && found {
			want := sub[1]
			if want == "array" && keyword == "required" {
				return fmt.Sprintf("must be a list of property names (e.g. required: [name]), not %s", describe(value))
			}
			return fmt.Sprintf("must be %s, not %s", article(want), describe(value))
		}
	}
	for _, m := range msgs {
		if !strings.Contains(m, "must validate") {
			return m
		}
	}
	return msgs[0]
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// describe names a YAML value for a sentence: `"integr"`, `the number 3`, `a map`.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case bool:
		return fmt.Sprintf("the boolean %t", x)
	case float64, int, int64:
		return fmt.Sprintf("the number %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", v)
}

func article(jsonType string) string {
	switch jsonType {
	case "array":
		return "a list"
	case "object":
		return "a map"
	case "integer":
		return "an integer"
	}
	return "a " + jsonType
}

// lookup returns the value at path in a decoded JSON/YAML tree.
func lookup(v any, path []string) (any, bool) {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}
