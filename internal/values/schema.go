package values

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-openapi/spec"
	"github.com/go-openapi/strfmt"
	"github.com/go-openapi/validate"
	"sigs.k8s.io/yaml"
)

// Schema file names inside a module's openapi/ directory.
const (
	ConfigSchemaFile = "config-values.yaml"
	ValuesSchemaFile = "values.yaml"
)

// Schemas are a module's parsed OpenAPI schemas, ready for defaults and validation.
type Schemas struct {
	// Config validates user settings (ModuleConfig spec.settings); nil without config-values.yaml.
	Config *spec.Schema
	// Values validates the whole module values tree: values.yaml merged with the config
	// schema through x-extend. Without values.yaml it is the config schema.
	Values *spec.Schema
	// Helm is Values with x-required-for-helm added to required: checked right before rendering.
	Helm *spec.Schema
	// ConfigFile and ValuesFile are the files read ("" when absent).
	ConfigFile, ValuesFile string
	// ConfigVersion is x-config-version of the config schema (0 when unset).
	ConfigVersion int
}

// SchemaError names the schema file, the line when known, and the field
// (dotted path of schema keywords) that is wrong.
type SchemaError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *SchemaError) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", where, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", where, e.Field, e.Err)
}

func (e *SchemaError) Unwrap() error { return e.Err }

// LoadSchemas reads openapi/config-values.yaml and openapi/values.yaml from dir
// (the module's openapi directory). Missing files are allowed; a file that
// exists must be a valid schema.
func LoadSchemas(dir string) (*Schemas, error) {
	return (&schemaLoader{}).load(dir)
}

// LoadSchemasLenient is LoadSchemas for the linter: a document that fails
// only the meta-schema check is still used (so the rest of the module can be
// checked with it), and the check's errors come back with the schemas. Any
// other error (unreadable file, YAML, $ref, x-extend) returns nil schemas.
func LoadSchemasLenient(dir string) (*Schemas, error) {
	l := &schemaLoader{lenient: true}
	s, err := l.load(dir)
	if err != nil {
		return nil, err
	}
	return s, errors.Join(l.problems...)
}

// schemaLoader reads a module's schema files; lenient collects meta-schema
// problems in problems instead of failing.
type schemaLoader struct {
	lenient  bool
	problems []error
}

func (l *schemaLoader) load(dir string) (*Schemas, error) {
	s := &Schemas{}
	configRaw, configFile, err := l.readSchemaFile(filepath.Join(dir, ConfigSchemaFile))
	if err != nil {
		return nil, err
	}
	valuesRaw, valuesFile, err := l.readSchemaFile(filepath.Join(dir, ValuesSchemaFile))
	if err != nil {
		return nil, err
	}
	s.ConfigFile, s.ValuesFile = configFile, valuesFile
	if configRaw != nil {
		if v, ok := configRaw["x-config-version"]; ok {
			f, isNum := v.(float64)
			if !isNum || f != float64(int(f)) || f < 1 {
				return nil, &SchemaError{File: configFile, Field: "x-config-version", Err: fmt.Errorf("must be a positive integer, got %v", v)}
			}
			s.ConfigVersion = int(f)
		}
		if s.Config, err = buildSchema(configFile, configRaw, false); err != nil {
			return nil, err
		}
	}
	var valuesDoc map[string]any
	switch {
	case valuesRaw != nil:
		valuesDoc = valuesRaw
		if ext, ok := valuesRaw["x-extend"]; ok {
			if valuesDoc, err = l.extend(valuesFile, valuesRaw, ext, configRaw, dir); err != nil {
				return nil, err
			}
		}
	case configRaw != nil:
		valuesDoc, valuesFile = configRaw, configFile
	}
	if valuesDoc != nil {
		if s.Values, err = buildSchema(valuesFile, valuesDoc, false); err != nil {
			return nil, err
		}
		if s.Helm, err = buildSchema(valuesFile, valuesDoc, true); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ParseSchema parses one schema document (YAML or JSON) and checks it against
// the JSON Schema draft 4 meta-schema that OpenAPI v3 schemas build on.
func ParseSchema(file string, data []byte) (*spec.Schema, error) {
	raw, err := parseSchemaDoc(file, data)
	if err != nil {
		return nil, err
	}
	if err := checkMetaSchema(file, data, raw); err != nil {
		return nil, err
	}
	return buildSchema(file, raw, false)
}

func (l *schemaLoader) readSchemaFile(path string) (map[string]any, string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", path, err)
	}
	raw, err := parseSchemaDoc(path, data)
	if err != nil {
		return nil, path, err
	}
	if err := checkMetaSchema(path, data, raw); err != nil {
		if !l.lenient {
			return nil, path, err
		}
		l.problems = append(l.problems, err)
	}
	return raw, path, nil
}

func parseSchemaDoc(file string, data []byte) (map[string]any, error) {
	raw := map[string]any{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, &SchemaError{File: file, Err: fmt.Errorf("parsing YAML: %w", err)}
	}
	if len(raw) == 0 {
		return nil, &SchemaError{File: file, Err: errors.New("schema is empty")}
	}
	return raw, nil
}

// draft04MetaSchema is the URL of JSON Schema draft 4's meta-schema, which
// santhosh-tekuri/jsonschema carries built in.
const draft04MetaSchema = "http://json-schema.org/draft-04/schema"

// checkMetaSchema checks a schema document against the JSON Schema draft 4
// meta-schema, relaxed where addon-operator (which only decodes schemas into
// go-openapi's spec.Schema and never checks them against a meta-schema) and
// dmt accept a document: `required: []` and repeated names in required or
// enum change nothing when validating values, so they are not errors. The
// check runs on a copy with those lists tidied.
func checkMetaSchema(file string, data []byte, raw map[string]any) error {
	doc := deepCopy(raw)
	tidyForMetaSchema(doc)
	// Most schemas are valid: santhosh-tekuri/jsonschema says so in a small
	// fraction of the time go-openapi's validator takes (a quarter of a
	// large module's lint went there). go-openapi runs only for a schema
	// that fails, for the field paths its errors carry.
	if meta4, err := jsonschema.NewCompiler().Compile(draft04MetaSchema); err == nil && meta4.Validate(doc) == nil {
		return nil
	}
	meta := spec.MustLoadJSONSchemaDraft04()
	if res := validate.NewSchemaValidator(meta, nil, "", strfmt.Default).Validate(doc); !res.IsValid() {
		return metaSchemaError(file, data, raw, res.Errors)
	}
	return nil
}

// tidyForMetaSchema drops empty required lists and repeated entries of
// required and enum lists, everywhere in the document.
func tidyForMetaSchema(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if list, ok := e.([]any); ok && (k == "required" || k == "enum") {
				if k == "required" && len(list) == 0 {
					delete(t, k)
					continue
				}
				t[k] = uniqueJSON(list)
			}
			tidyForMetaSchema(t[k])
		}
	case []any:
		for _, e := range t {
			tidyForMetaSchema(e)
		}
	}
}

func uniqueJSON(list []any) []any {
	seen := map[string]bool{}
	out := make([]any, 0, len(list))
	for _, e := range list {
		key, err := json.Marshal(e)
		if err == nil && seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		out = append(out, e)
	}
	return out
}

// buildSchema turns a raw document into a spec.Schema with addon-operator's
// transformations: additionalProperties: false wherever unset and, for the
// helm variant, x-required-for-helm merged into required.
func buildSchema(file string, raw map[string]any, forHelm bool) (*spec.Schema, error) {
	doc := deepCopy(raw).(map[string]any)
	if forHelm {
		addRequiredForHelm(doc)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, &SchemaError{File: file, Err: err}
	}
	s := &spec.Schema{}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, &SchemaError{File: file, Err: fmt.Errorf("decoding schema: %w", err)}
	}
	closeObjects(s)
	if err := spec.ExpandSchema(s, s, nil); err != nil {
		return nil, &SchemaError{File: file, Err: fmt.Errorf("resolving $ref: %w", err)}
	}
	return s, nil
}

// closeObjects sets additionalProperties: false on the node and, recursively,
// on properties and array items that do not set it, as addon-operator does
// before validating values. A property that sets additionalProperties itself
// (true or a schema) is left alone, children included.
func closeObjects(s *spec.Schema) {
	if s == nil {
		return
	}
	if s.AdditionalProperties == nil {
		s.AdditionalProperties = &spec.SchemaOrBool{Allows: false}
	}
	for k, p := range s.Properties {
		if p.AdditionalProperties == nil {
			closeObjects(&p)
			s.Properties[k] = p
		}
	}
	if s.Items != nil {
		closeObjects(s.Items.Schema)
		for i := range s.Items.Schemas {
			closeObjects(&s.Items.Schemas[i])
		}
	}
}

func addRequiredForHelm(node map[string]any) {
	if extra, ok := node["x-required-for-helm"].([]any); ok {
		req, _ := node["required"].([]any)
		seen := map[any]bool{}
		for _, r := range req {
			seen[r] = true
		}
		for _, r := range extra {
			if !seen[r] {
				req = append(req, r)
				seen[r] = true
			}
		}
		node["required"] = req
	}
	if props, ok := node["properties"].(map[string]any); ok {
		for _, p := range props {
			if pm, ok := p.(map[string]any); ok {
				addRequiredForHelm(pm)
			}
		}
	}
	if items, ok := node["items"].(map[string]any); ok {
		addRequiredForHelm(items)
	}
}

// extend applies x-extend: {schema: config-values.yaml}: the parent's
// definitions, required, properties, patternProperties, title, description and
// x-* keys are merged in; the child's own entries win.
func (l *schemaLoader) extend(file string, child map[string]any, ext any, configRaw map[string]any, dir string) (map[string]any, error) {
	em, ok := ext.(map[string]any)
	if !ok {
		return nil, &SchemaError{File: file, Field: "x-extend", Err: errors.New("must be an object with a schema key")}
	}
	name, _ := em["schema"].(string)
	if name == "" {
		return nil, &SchemaError{File: file, Field: "x-extend.schema", Err: errors.New("must name a schema file")}
	}
	parent := configRaw
	if name != ConfigSchemaFile || parent == nil {
		raw, path, err := l.readSchemaFile(filepath.Join(dir, filepath.Clean(name)))
		if err != nil {
			return nil, err
		}
		if path == "" {
			// addon-operator extends only from an existing config schema and
			// otherwise loads the values schema as it is.
			out := deepCopy(child).(map[string]any)
			return out, nil
		}
		parent = raw
	}
	out := deepCopy(child).(map[string]any)
	delete(out, "x-extend")
	for k, pv := range parent {
		switch {
		case k == "properties" || k == "patternProperties" || k == "definitions":
			pm, _ := pv.(map[string]any)
			cm, _ := out[k].(map[string]any)
			merged := map[string]any{}
			for n, v := range pm {
				merged[n] = deepCopy(v)
			}
			for n, v := range cm {
				merged[n] = v
			}
			out[k] = merged
		case k == "required":
			pl, _ := pv.([]any)
			cl, _ := out[k].([]any)
			seen := map[any]bool{}
			var merged []any
			for _, r := range append(append([]any{}, pl...), cl...) {
				if !seen[r] {
					merged = append(merged, r)
					seen[r] = true
				}
			}
			out[k] = merged
		case k == "x-examples":
			// examples of settings are not examples of the whole values tree
		case k == "title" || k == "description" || strings.HasPrefix(k, "x-"):
			if _, has := out[k]; !has {
				out[k] = deepCopy(pv)
			}
		}
	}
	return out, nil
}
