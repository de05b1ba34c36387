package lint

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/google/cel-go/cel"
	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// dmt's openapi rules over the files of openapi/ and crds/: enum values are
// CamelCase (enum), CRD enums avoid the names listed in
// exclude-rules.key-banned-names (keys), every crds/ file has its doc-ru-
// translation and back (bilingual), doc-ru- files parse (doc-ru-yaml), and
// x-deckhouse-validations blocks are well formed CEL (deckhouse-validations).

// lintTextRules runs the rules that read module files as text, before and
// whatever the loader made of them: documentation, no-cyrillic and the
// file-level openapi rules.
func lintTextRules(c *collector, dir string, cfg *LintConfig) {
	lintDocs(c, dir)
	lintNoCyrillic(c, dir)
	lintOpenAPIFiles(c, dir, cfg)
}

func lintOpenAPIFiles(c *collector, dir string, cfg *LintConfig) {
	schemaFiles := schemaFilesUnder(dir, "openapi", false)
	crdFiles := schemaFilesUnder(dir, "crds", false)
	banned := cfg.bannedEnumNames()
	env, envErr := cel.NewEnv(cel.Variable("self", cel.DynType), cel.Variable("oldSelf", cel.DynType))
	for _, rel := range append(append([]string{}, schemaFiles...), crdFiles...) {
		root, err := parseYAMLFile(dir, rel)
		if err == nil && len(root.Content) > 0 && mappingOf(root) == nil {
			// dmt decodes these files into a map and rejects anything else.
			err = fmt.Errorf("the top level is not a mapping")
		}
		if err != nil {
			// config-values.yaml, values.yaml and CRDs are parsed (and their
			// errors reported) by the loader and lintSchemas.
			if strings.HasPrefix(rel, "openapi/") && rel != "openapi/config-values.yaml" && rel != "openapi/values.yaml" {
				c.add(LinterOpenAPI, "enum", rel, 0, "openAPI file is not valid YAML: %v", err)
			}
			continue
		}
		isCRD := strings.HasPrefix(rel, "crds/")
		if isCRD && externalCRD(root) {
			continue // dmt checks only Deckhouse's own CRDs (*.deckhouse.io)
		}
		walkAllKeys(root, func(keyNode, v *yaml.Node, parent string) {
			key := keyNode.Value
			if key != "enum" || parent == "" {
				return
			}
			lintEnumNode(c, rel, parent, v)
			if isCRD {
				lintBannedEnumNames(c, rel, parent, v, banned)
			}
		})
		if !isCRD {
			lintValidations(c, rel, root, env, envErr)
		}
	}
	lintCRDTranslations(c, dir)
	for _, rel := range append(schemaFilesUnder(dir, "openapi", true), schemaFilesUnder(dir, "crds", true)...) {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err == nil {
			m := map[string]any{}
			err = sigsyaml.UnmarshalStrict(data, &m)
		}
		if err != nil {
			c.add(LinterOpenAPI, "doc-ru-yaml", rel, 0, "the translation file is not a valid YAML mapping: %v", err)
		}
	}
}

var docRuPath = regexp.MustCompile(`^(openapi|crds)/doc-ru-.*\.ya?ml$`)

// schemaFilesUnder lists the .yaml/.yml files under dir/sub (symbolic links
// and *-tests.yaml skipped, as dmt does): the doc-ru- translations when
// docRu, the other files otherwise. Paths are relative to dir, sorted.
func schemaFilesUnder(dir, sub string, docRu bool) []string {
	var out []string
	_ = filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		name := path.Base(rel)
		if ext := path.Ext(name); (ext != ".yaml" && ext != ".yml") || strings.HasSuffix(name, "-tests.yaml") {
			return nil
		}
		if docRu {
			if docRuPath.MatchString(rel) {
				out = append(out, rel)
			}
		} else if !strings.HasPrefix(name, "doc-ru-") {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// parseYAMLFile parses the first document of a file (dmt reads no more).
func parseYAMLFile(dir, rel string) (*yaml.Node, error) {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	return &root, nil
}

// externalCRD is true for a CustomResourceDefinition not named *deckhouse.io.
func externalCRD(root *yaml.Node) bool {
	top := mappingOf(root)
	if scalarAt(top, "kind") != "CustomResourceDefinition" {
		return false
	}
	return !strings.HasSuffix(scalarAt(mappingOf(valueAt(top, "metadata")), "name"), "deckhouse.io")
}

func mappingOf(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	return n
}

func valueAt(m *yaml.Node, key string) *yaml.Node {
	if m == nil {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalarAt(m *yaml.Node, key string) string {
	if v := valueAt(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// walkAllKeys calls fn for every key of every mapping, examples and defaults
// included (dmt's parser skips nothing), with the dotted path of the mapping
// holding it ("" for the top level). The key node carries the line to report.
func walkAllKeys(n *yaml.Node, fn func(key, value *yaml.Node, parent string)) {
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, ch := range n.Content {
				walk(ch, path)
			}
		case yaml.SequenceNode:
			for i, ch := range n.Content {
				walk(ch, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				fn(k, v, path)
				walk(v, joinKey(path, k.Value))
			}
		}
	}
	walk(n, "")
}

// yaml11Bools are plain scalars dmt's YAML 1.1 decoder reads as booleans, so
// its enum and string checks skip them.
var yaml11Bools = regexp.MustCompile(`^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)

// isString reports whether dmt would read the scalar as a string.
func isString(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return false
	}
	return n.Style != 0 || !yaml11Bools.MatchString(n.Value)
}

// lintEnumNode applies the enum rule to the values of one enum; parent is the
// key path dmt's exclude-rules.enum names ("properties.mode").
func lintEnumNode(c *collector, rel, parent string, v *yaml.Node) {
	if v.Kind != yaml.SequenceNode {
		return
	}
	for _, e := range v.Content {
		if !isString(e) {
			continue
		}
		if msg := enumProblem(e.Value); msg != "" {
			c.addProblem(Problem{File: rel, Line: e.Line, Linter: LinterOpenAPI, Rule: "enum", Severity: SeverityError,
				Message: fmt.Sprintf("%s: enum value %q %s", parent, e.Value, msg), Key: parent})
		}
	}
}

// lintBannedEnumNames is dmt's keys rule: in CRDs, an enum (or, when it is a
// mapping, any key or list item inside it) must not use a name listed in
// openapi.exclude-rules.key-banned-names. Nothing is banned by default.
func lintBannedEnumNames(c *collector, rel, parent string, v *yaml.Node, banned []string) {
	if len(banned) == 0 {
		return
	}
	isBanned := func(n *yaml.Node) bool {
		for _, b := range banned {
			if n.Kind == yaml.ScalarNode && n.Value == b {
				return true
			}
		}
		return false
	}
	var find func(n *yaml.Node, keys bool) *yaml.Node
	find = func(n *yaml.Node, keys bool) *yaml.Node {
		switch n.Kind {
		case yaml.SequenceNode:
			for _, e := range n.Content {
				if isString(e) && isBanned(e) {
					return e
				}
				if keys && e.Kind == yaml.MappingNode {
					if hit := find(e, true); hit != nil {
						return hit
					}
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if isBanned(n.Content[i]) {
					return n.Content[i]
				}
				if ch := n.Content[i+1]; ch.Kind == yaml.MappingNode || ch.Kind == yaml.SequenceNode {
					if hit := find(ch, true); hit != nil {
						return hit
					}
				}
			}
		}
		return nil
	}
	if hit := find(v, v.Kind == yaml.MappingNode); hit != nil {
		c.addProblem(Problem{File: rel, Line: hit.Line, Linter: LinterOpenAPI, Rule: "keys", Severity: SeverityError,
			Message: fmt.Sprintf("%s.enum: %q is a banned name (openapi.exclude-rules.key-banned-names)", parent, hit.Value), Key: parent})
	}
}

// bannedEnumNames reads linters-settings.openapi.exclude-rules.key-banned-names.
func (c *LintConfig) bannedEnumNames() []string {
	if c == nil {
		return nil
	}
	openapi, _ := c.module[LinterOpenAPI].(map[string]any)
	ex, _ := openapi["exclude-rules"].(map[string]any)
	list, _ := ex["key-banned-names"].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// lintCRDTranslations is dmt's openapi bilingual rule over the regular files
// directly in crds/: X.yaml needs doc-ru-X.yaml beside it, and a doc-ru-
// file needs the file it translates.
func lintCRDTranslations(c *collector, dir string) {
	entries, err := os.ReadDir(filepath.Join(dir, "crds"))
	if err != nil {
		return
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name()] = true
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) || strings.HasSuffix(name, "-tests.yaml") {
			continue
		}
		if base, ok := strings.CutPrefix(name, "doc-ru-"); ok {
			if !have[base] {
				c.add(LinterOpenAPI, "bilingual", "crds/"+name, 0, "the translation has no file to translate: crds/%s is missing", base)
			}
		} else if !have["doc-ru-"+name] {
			c.add(LinterOpenAPI, "bilingual", "crds/"+name, 0, "the Russian translation is missing: add crds/doc-ru-%s", name)
		}
	}
}

// lintValidations is dmt's deckhouse-validations rule on an openapi/ schema:
// x-deckhouse-validations is a non-empty list of {expression, message} whose
// expressions compile as CEL over self and oldSelf, and
// x-kubernetes-validations (honoured only by the API server, for CRDs) is
// flagged. dmt reports all of it as warnings for now.
func lintValidations(c *collector, rel string, root *yaml.Node, env *cel.Env, envErr error) {
	warn := func(n *yaml.Node, format string, args ...any) {
		c.warnAt(alwaysWarn, LinterOpenAPI, "deckhouse-validations", rel, n.Line, format, args...)
	}
	walkAllKeys(root, func(k, v *yaml.Node, parent string) {
		at := joinKey(parent, k.Value)
		switch k.Value {
		case "x-deckhouse-validations":
			checkDeckhouseValidations(warn, at, k, v, env, envErr)
		case "x-kubernetes-validations":
			warn(k, "%s: x-kubernetes-validations is ignored in a module schema (DKP checks module settings with x-deckhouse-validations): rename it", at)
		}
	})
}

func checkDeckhouseValidations(warn func(*yaml.Node, string, ...any), at string, key, v *yaml.Node, env *cel.Env, envErr error) {
	if v.Kind != yaml.SequenceNode {
		warn(key, "%s must be a list of {expression, message} entries", at)
		return
	}
	if len(v.Content) == 0 {
		warn(key, "%s must have at least one {expression, message} entry", at)
		return
	}
	for i, e := range v.Content {
		entry := fmt.Sprintf("%s[%d]", at, i)
		if e.Kind != yaml.MappingNode || len(e.Content) == 0 {
			warn(e, "%s must be a mapping with expression and message", entry)
			continue
		}
		expr := valueAt(e, "expression")
		exprOK := expr != nil && isString(expr) && expr.Value != ""
		if !exprOK {
			warn(e, "%s: expression must be a non-empty string", entry)
		}
		if msg := valueAt(e, "message"); msg == nil || !isString(msg) || msg.Value == "" {
			warn(e, "%s: message must be a non-empty string", entry)
		}
		if exprOK && envErr == nil {
			if _, iss := env.Compile(expr.Value); iss != nil && iss.Err() != nil {
				warn(expr, "%s: expression is not valid CEL: %v", entry, iss.Err())
			}
		}
	}
}
