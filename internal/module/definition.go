package module

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// DefinitionFile is the module metadata file.
const DefinitionFile = "module.yaml"

// DefaultWeight is the weight of a module that sets none, neither in
// module.yaml nor by a numeric directory prefix: 900, DKP's downloader
// default, since deckhand runs DKP modules. addon-operator's own default
// for unnumbered directories is 1 (ADDON_OPERATOR_UNNUMBERED_MODULES_ORDER);
// WithDefaultWeight(1) gives that.
const DefaultWeight = 900

// Definition is module.yaml (DKP's moduleloader Definition).
type Definition struct {
	Name           string         `yaml:"name" json:"name"`
	Weight         *uint32        `yaml:"weight,omitempty" json:"weight,omitempty"`
	Critical       bool           `yaml:"critical,omitempty" json:"critical,omitempty"`
	Stage          string         `yaml:"stage,omitempty" json:"stage,omitempty"`
	Namespace      string         `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	Subsystems     []string       `yaml:"subsystems,omitempty" json:"subsystems,omitempty"`
	Tags           []string       `yaml:"tags,omitempty" json:"tags,omitempty"`
	ExclusiveGroup string         `yaml:"exclusiveGroup,omitempty" json:"exclusiveGroup,omitempty"`
	Description    string         `yaml:"description,omitempty" json:"description,omitempty"`
	Descriptions   Descriptions   `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
	Requirements   *Requirements  `yaml:"requirements,omitempty" json:"requirements,omitempty"`
	Disable        *Disable       `yaml:"disable,omitempty" json:"disable,omitempty"`
	Accessibility  *Accessibility `yaml:"accessibility,omitempty" json:"accessibility,omitempty"`
	Update         *Update        `yaml:"update,omitempty" json:"update,omitempty"`
}

// Descriptions are localized texts.
type Descriptions struct {
	En string `yaml:"en,omitempty" json:"en,omitempty"`
	Ru string `yaml:"ru,omitempty" json:"ru,omitempty"`
}

// Requirements are semver constraints on DKP, Kubernetes and other modules.
type Requirements struct {
	Deckhouse    string            `yaml:"deckhouse,omitempty" json:"deckhouse,omitempty"`
	Kubernetes   string            `yaml:"kubernetes,omitempty" json:"kubernetes,omitempty"`
	Bootstrapped string            `yaml:"bootstrapped,omitempty" json:"bootstrapped,omitempty"`
	Modules      map[string]string `yaml:"modules,omitempty" json:"modules,omitempty"`
}

// Disable describes what disabling the module asks of the user.
type Disable struct {
	Confirmation bool         `yaml:"confirmation,omitempty" json:"confirmation,omitempty"`
	Message      string       `yaml:"message,omitempty" json:"message,omitempty"`
	Messages     Descriptions `yaml:"messages,omitempty" json:"messages,omitempty"`
}

// Accessibility says in which editions and bundles the module is available.
type Accessibility struct {
	Editions map[string]Edition `yaml:"editions,omitempty" json:"editions,omitempty"`
}

// Edition is one accessibility.editions entry.
type Edition struct {
	Available        bool     `yaml:"available" json:"available"`
	EnabledInBundles []string `yaml:"enabledInBundles,omitempty" json:"enabledInBundles,omitempty"`
}

// Update holds the version skip rules.
type Update struct {
	Versions []UpdateVersion `yaml:"versions,omitempty" json:"versions,omitempty"`
}

// UpdateVersion is one from-to skip rule.
type UpdateVersion struct {
	From string `yaml:"from" json:"from"`
	To   string `yaml:"to" json:"to"`
}

// Known enum values (dmt's definition-file rule).
var (
	stages   = []string{"Experimental", "Preview", "General Availability", "Deprecated"}
	editions = []string{"_default", "ce", "fe", "ee", "se", "se-plus", "be", "cse"}
	bundles  = []string{"Default", "Managed", "Minimal"}
)

// Document is a parsed YAML file that still knows where each key is.
type Document struct {
	root *yaml.Node
}

// Line returns the line of the value at the dotted path ("requirements.deckhouse"),
// falling back to the nearest existing parent; 0 when nothing matches.
func (d *Document) Line(path string) int {
	if d == nil || d.root == nil {
		return 0
	}
	n := d.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		if part == "" || n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// ParseDocument parses YAML keeping positions.
func ParseDocument(data []byte) (*Document, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	return &Document{root: &root}, nil
}

// ParseDefinition decodes module.yaml and checks what the runtime relies on:
// the name (kebab-case, at most 64 characters, round-tripping through its values
// key), stage, requirements constraints, accessibility editions and bundles,
// and update versions. Every error names the file, line and field.
func ParseDefinition(file string, data []byte) (*Definition, *Document, error) {
	def, doc, err := decodeDefinition(file, data)
	if err != nil {
		return nil, doc, err
	}
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, &FileError{File: file, Line: doc.Line(field), Field: field, Err: fmt.Errorf(format, args...)})
	}
	switch {
	case def.Name == "":
		fail("name", "is required")
	case len(def.Name) > 64:
		fail("name", "%q is longer than 64 characters", def.Name)
	default:
		if _, err := values.ModuleKey(def.Name); err != nil {
			fail("name", "%v", err)
		}
	}
	if def.Stage != "" && !contains(stages, def.Stage) {
		fail("stage", "%q is not one of %s", def.Stage, strings.Join(stages, ", "))
	}
	if r := def.Requirements; r != nil {
		checkConstraint(fail, "requirements.deckhouse", r.Deckhouse)
		checkConstraint(fail, "requirements.kubernetes", r.Kubernetes)
		for name, c := range r.Modules {
			field := "requirements.modules." + name
			if _, err := values.ModuleKey(name); err != nil {
				fail(field, "%v", err)
			}
			checkConstraint(fail, field, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(c), "!optional")))
		}
	}
	if a := def.Accessibility; a != nil {
		for ed, e := range a.Editions {
			field := "accessibility.editions." + ed
			if !contains(editions, ed) {
				fail(field, "unknown edition %q (known: %s)", ed, strings.Join(editions, ", "))
			}
			for _, b := range e.EnabledInBundles {
				if !contains(bundles, b) {
					fail(field+".enabledInBundles", "unknown bundle %q (known: %s)", b, strings.Join(bundles, ", "))
				}
			}
		}
	}
	if u := def.Update; u != nil {
		for i, v := range u.Versions {
			field := fmt.Sprintf("update.versions[%d]", i)
			from, errF := semver.NewVersion(v.From)
			to, errT := semver.NewVersion(v.To)
			if errF != nil {
				fail("update.versions", "%s.from %q is not a version: %v", field, v.From, errF)
			}
			if errT != nil {
				fail("update.versions", "%s.to %q is not a version: %v", field, v.To, errT)
			}
			if errF == nil && errT == nil && !to.GreaterThan(from) {
				fail("update.versions", "%s: to %s must be greater than from %s", field, v.To, v.From)
			}
		}
	}
	if def.Critical && def.Weight != nil && *def.Weight == 0 {
		fail("weight", "a critical module must not have weight 0")
	}
	return def, doc, errors.Join(errs...)
}

// parseRuntimeDefinition decodes module.yaml holding it only to what
// running the module relies on: it decodes, and its name, when set, is
// usable as a values key. The linter's rules (stage, editions, bundles,
// update versions, constraints) are ParseDefinition's.
func parseRuntimeDefinition(file string, data []byte) (*Definition, *Document, error) {
	def, doc, err := decodeDefinition(file, data)
	if err != nil {
		return nil, doc, err
	}
	if def.Name != "" {
		if _, err := values.ModuleKey(def.Name); err != nil {
			return nil, doc, &FileError{File: file, Line: doc.Line("name"), Field: "name", Err: err}
		}
	}
	return def, doc, nil
}

func decodeDefinition(file string, data []byte) (*Definition, *Document, error) {
	doc, err := ParseDocument(data)
	if err != nil {
		return nil, nil, &FileError{File: file, Err: fmt.Errorf("parsing YAML: %w", err)}
	}
	def := &Definition{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(def); err != nil && !errors.Is(err, io.EOF) {
		return nil, doc, &FileError{File: file, Err: fmt.Errorf("decoding: %w", err)}
	}
	return def, doc, nil
}

// EffectiveWeight is the module's weight or DefaultWeight when unset.
func (d *Definition) EffectiveWeight() uint32 {
	if d == nil || d.Weight == nil {
		return DefaultWeight
	}
	return *d.Weight
}

func checkConstraint(fail func(string, string, ...any), field, c string) {
	if c == "" {
		return
	}
	if _, err := semver.NewConstraint(c); err != nil {
		fail(field, "%q is not a semver constraint: %v", c, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
