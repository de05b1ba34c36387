package lint

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/deckhand-dev/deckhand/internal/module"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// lintSchemas runs openapi rules on loaded schemas: x-examples validate
// against their schema node (x-examples), highAvailability has no default
// (high-availability). The enum rule is in lint_openapi_files.go.
func lintSchemas(c *collector, m *module.Module) {
	files := []string{"openapi/" + values.ConfigSchemaFile, "openapi/" + values.ValuesSchemaFile}
	files = append(files, m.CRDs...)
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(rel)))
		if err != nil {
			continue
		}
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			c.add(LinterOpenAPI, "schema", rel, 0, "parsing YAML: %v", err)
			continue
		}
		walkSchemaNodes(&root, func(key string, v *yaml.Node, parentKey, path string) {
			switch {
			case parentKey == "properties" && key == "highAvailability" && v.Kind == yaml.MappingNode:
				for i := 0; i+1 < len(v.Content); i += 2 {
					if v.Content[i].Value == "default" {
						c.add(LinterOpenAPI, "high-availability", rel, v.Content[i].Line, "highAvailability must not have a default: it follows the cluster's global setting when unset")
					}
				}
			}
		})
	}
	if m.Schemas == nil {
		return // not built: reported as a schema problem
	}
	checkExamples := func(rel string, s *values.Schemas, config bool) {
		schema := s.Values
		if config {
			schema = s.Config
		}
		if schema == nil {
			return
		}
		doc := docOf(filepath.Join(m.Dir, filepath.FromSlash(rel)))
		for _, e := range values.ValidateExamples(schema) {
			c.add(LinterOpenAPI, "x-examples", rel, doc.Line(schemaPath(e.Field)+"x-examples"), "%v", e)
		}
	}
	if m.Schemas.Config != nil {
		checkExamples("openapi/"+values.ConfigSchemaFile, m.Schemas, true)
	}
	if m.Schemas.ValuesFile != "" && m.Schemas.ValuesFile != m.Schemas.ConfigFile {
		checkExamples("openapi/"+values.ValuesSchemaFile, m.Schemas, false)
	}
}

// schemaPath turns a value path ("a.b", "a[]") into a schema document path
// prefix ("properties.a.properties.b.").
func schemaPath(field string) string {
	if field == "" {
		return ""
	}
	var b strings.Builder
	for _, part := range strings.Split(field, ".") {
		items := strings.HasSuffix(part, "[]")
		part = strings.TrimSuffix(part, "[]")
		b.WriteString("properties." + part + ".")
		if items {
			b.WriteString("items.")
		}
	}
	return b.String()
}

func docOf(path string) *module.Document {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	d, err := module.ParseDocument(data)
	if err != nil {
		return nil
	}
	return d
}

// walkSchemaNodes calls fn for every key of every mapping, with the dotted
// path of the mapping holding it ("properties.a", "spec.versions[0].schema").
func walkSchemaNodes(n *yaml.Node, fn func(key string, value *yaml.Node, parentKey, path string)) {
	var walk func(n *yaml.Node, parentKey, path string)
	walk = func(n *yaml.Node, parentKey, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, ch := range n.Content {
				walk(ch, parentKey, path)
			}
		case yaml.SequenceNode:
			for i, ch := range n.Content {
				walk(ch, parentKey, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				if strings.HasPrefix(k, "x-examples") || k == "default" || k == "example" {
					continue
				}
				fn(k, v, parentKey, path)
				walk(v, k, joinKey(path, k))
			}
		}
	}
	walk(n, "", "")
}

func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// lintCRDs runs openapi/deckhouse-crds: every document in crds/ parses as an
// apiextensions.k8s.io/v1 CustomResourceDefinition with a module label.
func lintCRDs(c *collector, m *module.Module) {
	for _, rel := range m.CRDs {
		f, err := os.Open(filepath.Join(m.Dir, filepath.FromSlash(rel)))
		if err != nil {
			c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "%v", err)
			continue
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
		for i := 0; ; i++ {
			chunk, err := reader.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "document %d: %v", i, err)
				}
				break
			}
			if strings.TrimSpace(string(chunk)) == "" || strings.TrimSpace(string(chunk)) == "---" {
				continue
			}
			lintCRD(c, rel, i, chunk)
		}
		_ = f.Close()
	}
}

func lintCRD(c *collector, rel string, i int, chunk []byte) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := sigsyaml.Unmarshal(chunk, &head); err != nil {
		c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "document %d: parsing YAML: %v", i, err)
		return
	}
	if head.Kind != "CustomResourceDefinition" {
		c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "document %d: kind %q is not CustomResourceDefinition", i, head.Kind)
		return
	}
	if head.APIVersion != "apiextensions.k8s.io/v1" {
		c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "document %d: apiVersion %q must be apiextensions.k8s.io/v1", i, head.APIVersion)
		return
	}
	// DKP drops x-doc-* keys (documentation only) before applying CRDs.
	var raw map[string]any
	if err := sigsyaml.Unmarshal(chunk, &raw); err != nil {
		c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "document %d: %v", i, err)
		return
	}
	stripDocKeys(raw)
	clean, err := sigsyaml.Marshal(raw)
	if err != nil {
		c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "document %d: %v", i, err)
		return
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := sigsyaml.UnmarshalStrict(clean, crd); err != nil {
		c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "document %d: %v", i, err)
		return
	}
	where := fmt.Sprintf("CustomResourceDefinition %s", crd.Name)
	if crd.Name == "" || crd.Spec.Group == "" || crd.Spec.Names.Plural == "" || crd.Spec.Names.Kind == "" || len(crd.Spec.Versions) == 0 {
		c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "%s: metadata.name, spec.group, spec.names.plural, spec.names.kind and spec.versions are required", where)
		return
	}
	if want := crd.Spec.Names.Plural + "." + crd.Spec.Group; crd.Name != want {
		c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "%s: metadata.name must be %q", where, want)
	}
	if _, ok := crd.Labels["module"]; !ok {
		c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "%s: metadata.labels.module is missing", where)
	}
	for _, v := range crd.Spec.Versions {
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			c.add(LinterOpenAPI, "deckhouse-crds", rel, 0, "%s: version %s has no schema.openAPIV3Schema", where, v.Name)
		}
	}
}

func stripDocKeys(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if strings.HasPrefix(k, "x-doc") {
				delete(t, k)
				continue
			}
			stripDocKeys(e)
		}
	case []any:
		for _, e := range t {
			stripDocKeys(e)
		}
	}
}

// enumProblem applies dmt's enum rule: values are CamelCase, i.e. start with an
// upper-case letter (or a digit) and hold only letters, digits and decimal dots.
func enumProblem(v string) string {
	if v == "" {
		return ""
	}
	r := []rune(v)
	if unicode.IsLetter(r[0]) && !unicode.IsUpper(r[0]) {
		return "must start with a capital letter"
	}
	for i, ch := range r {
		if unicode.IsLetter(ch) || unicode.IsNumber(ch) {
			continue
		}
		if ch == '.' && i > 0 && unicode.IsNumber(r[i-1]) {
			continue
		}
		return "must be CamelCase (letters and digits only)"
	}
	return ""
}
