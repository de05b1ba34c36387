package moduletest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestsDir is the directory of a module that holds its test cases.
const TestsDir = "tests"

// Case is one test case: a YAML file under the module's tests/ directory.
// See docs/module-test.md for the format.
type Case struct {
	// File is the path of the case relative to the module ("tests/pods/added.yaml").
	File string `yaml:"-" json:"file"`
	// Name is File relative to tests/ without the extension ("pods/added").
	Name string `yaml:"-" json:"name"`

	// Hook is the hook's path under hooks/ ("pods.sh").
	Hook string `yaml:"hook"`
	// Binding names the binding that runs: a kubernetes or schedule binding
	// name, or onStartup, beforeHelm, afterHelm, beforeDeleteHelm,
	// afterDeleteHelm. It may be left out when the hook has one binding.
	Binding string `yaml:"binding"`
	// Event is Synchronization (default), Added, Modified or Deleted for a
	// kubernetes binding.
	Event string `yaml:"event"`
	// Object is the object of an Added/Modified/Deleted event (its new state;
	// for Deleted it may name an object of Objects by apiVersion, kind,
	// namespace and name).
	Object map[string]any `yaml:"object"`
	// Objects are the cluster's objects before the event.
	Objects []map[string]any `yaml:"objects"`
	// ConfigValues are the module settings (ModuleConfig spec.settings).
	ConfigValues map[string]any `yaml:"configValues"`
	// Values are module values on top of what defaults and settings give,
	// as earlier hook patches would have left them (the <moduleKey> section).
	Values map[string]any `yaml:"values"`
	// Global values on top of the stub global values.
	Global map[string]any `yaml:"global"`
	// Env are extra environment variables of the hook process.
	Env map[string]string `yaml:"env"`
	// Expect is what the run must produce.
	Expect Expect `yaml:"expect"`

	objects []*unstructured.Unstructured
	object  *unstructured.Unstructured
	doc     *yaml.Node // the parsed file, for --update
}

// Expect is a case's expectations. Error, ValuesPatch, ConfigValuesPatch,
// Operations and Metrics are always compared (absent means none); Values,
// BindingContext and Manifests only when the case has them.
type Expect struct {
	Error             string `yaml:"error,omitempty" json:"error,omitempty"`
	ValuesPatch       []any  `yaml:"valuesPatch,omitempty" json:"valuesPatch,omitempty"`
	ConfigValuesPatch []any  `yaml:"configValuesPatch,omitempty" json:"configValuesPatch,omitempty"`
	Values            any    `yaml:"values,omitempty" json:"values,omitempty"`
	Operations        []any  `yaml:"operations,omitempty" json:"operations,omitempty"`
	Metrics           []any  `yaml:"metrics,omitempty" json:"metrics,omitempty"`
	BindingContext    any    `yaml:"bindingContext,omitempty" json:"bindingContext,omitempty"`
	Manifests         any    `yaml:"manifests,omitempty" json:"manifests,omitempty"`

	// has records which optional keys the file gave.
	has map[string]bool
}

// Events a kubernetes case may replay.
const (
	EventSynchronization = "Synchronization"
	EventAdded           = "Added"
	EventModified        = "Modified"
	EventDeleted         = "Deleted"
)

// FindCases lists the case files under moduleDir/tests (*.yaml, *.yml,
// recursively, hidden entries skipped), sorted, relative to moduleDir.
func FindCases(moduleDir string) ([]string, error) {
	root := filepath.Join(moduleDir, TestsDir)
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			rel, err := filepath.Rel(moduleDir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("module %s has no %s/ directory", moduleDir, TestsDir)
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	slices.Sort(files)
	return files, nil
}

// LoadCase reads and checks one case file; rel is relative to moduleDir.
// Errors name the file and the field.
func LoadCase(moduleDir, rel string) (*Case, error) {
	data, err := os.ReadFile(filepath.Join(moduleDir, rel))
	if err != nil {
		return nil, fmt.Errorf("reading test case: %w", err)
	}
	c, err := ParseCase(rel, data)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ParseCase parses a case file's content; file names it in errors.
func ParseCase(file string, data []byte) (*Case, error) {
	fail := func(field string, err error) (*Case, error) {
		return nil, fmt.Errorf("%s: %s: %w", file, field, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: a test case must be a YAML mapping (hook, binding, objects, expect, ...)", file)
	}
	c := &Case{File: file, doc: &doc}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%s: %s", file, strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "), "\n  ", "; "))
	}
	c.Name = caseName(file)
	c.Expect.has = map[string]bool{}
	if ex := mappingValue(doc.Content[0], "expect"); ex != nil && ex.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(ex.Content); i += 2 {
			c.Expect.has[ex.Content[i].Value] = true
		}
	}
	if c.Hook == "" {
		return fail("hook", errors.New("is required: the hook's path under hooks/"))
	}
	if filepath.IsAbs(c.Hook) || slices.Contains(strings.Split(filepath.ToSlash(c.Hook), "/"), "..") {
		return fail("hook", fmt.Errorf("%q must be a path inside hooks/", c.Hook))
	}
	switch c.Event {
	case "", EventSynchronization:
		if c.Object != nil {
			return fail("object", errors.New("is only used with event Added, Modified or Deleted"))
		}
	case EventAdded, EventModified, EventDeleted:
		if c.Object == nil {
			return fail("object", fmt.Errorf("is required for event %s", c.Event))
		}
	default:
		return fail("event", fmt.Errorf("%q is not one of Synchronization, Added, Modified, Deleted", c.Event))
	}
	for i, o := range c.Objects {
		u, err := toObject(o)
		if err != nil {
			return fail(fmt.Sprintf("objects[%d]", i), err)
		}
		if j := slices.IndexFunc(c.objects, func(p *unstructured.Unstructured) bool { return sameObject(p, u) }); j >= 0 {
			return fail(fmt.Sprintf("objects[%d]", i), fmt.Errorf("%s is already objects[%d]", objectRef(u), j))
		}
		c.objects = append(c.objects, u)
	}
	if c.Object != nil {
		u, err := toObject(c.Object)
		if err != nil {
			return fail("object", err)
		}
		c.object = u
	}
	for _, f := range []struct {
		name string
		list []any
	}{{"valuesPatch", c.Expect.ValuesPatch}, {"configValuesPatch", c.Expect.ConfigValuesPatch}} {
		for i, op := range f.list {
			m, ok := op.(map[string]any)
			if !ok || m["op"] == nil || m["path"] == nil {
				return fail(fmt.Sprintf("expect.%s[%d]", f.name, i), errors.New("must be a JSON patch operation {op, path, value}"))
			}
		}
	}
	return c, nil
}

// caseName is a case file's path under tests/ without the extension.
func caseName(file string) string {
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(file, TestsDir+"/"), ".yaml"), ".yml")
}

// toObject checks that m is a Kubernetes object and converts it to the
// JSON types the object machinery uses.
func toObject(m map[string]any) (*unstructured.Unstructured, error) {
	for _, k := range []string{"apiVersion", "kind"} {
		if s, _ := m[k].(string); s == "" {
			return nil, fmt.Errorf("%s is required", k)
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	switch {
	case u.GetAPIVersion() == "":
		return nil, errors.New("apiVersion is required")
	case u.GetKind() == "":
		return nil, errors.New("kind is required")
	case u.GetName() == "":
		return nil, errors.New("metadata.name is required")
	}
	return u, nil
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
