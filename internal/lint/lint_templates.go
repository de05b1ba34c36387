package lint

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/deckhand-dev/deckhand/internal/module"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// renderedObject is one object from the rendered chart, with where it came from.
type renderedObject struct {
	ref      ObjectRef
	template string
	doc      int
	raw      map[string]any
	src      *templateSource
}

func (o *renderedObject) problem(linter, rule, container, needle, format string, args ...any) Problem {
	ref := o.ref
	msg := fmt.Sprintf(format, args...)
	if container != "" {
		msg = fmt.Sprintf("%s container %q: %s", ref.String(), container, msg)
	} else {
		msg = fmt.Sprintf("%s: %s", ref.String(), msg)
	}
	return Problem{File: o.template, Line: o.src.line(o.doc, needle), Linter: linter, Rule: rule, Severity: SeverityError, Message: msg, Object: &ref, Container: container}
}

var helmErrLoc = regexp.MustCompile(`[\w.-]+/((?:charts/[\w.-]+/)?templates/[^:\s]+):(\d+)`)

// lintTemplates renders the chart with default values (and with each top-level
// x-example of the config schema) and checks the rendered objects.
func lintTemplates(ctx context.Context, c *collector, m *module.Module, kubeVersion string) {
	lintClusterDomain(c, m)
	lintTemplateFiles(c, m)
	res, err := (&module.Render{KubeVersion: kubeVersion, StubRequiredForHelm: true}).Run(ctx, m)
	if err != nil {
		reportRenderError(c, m, err, "with default values")
		return
	}
	lintExampleRenders(ctx, c, m, kubeVersion)
	crdScopes := loadCRDScopes(m)
	names := map[string]string{}
	var objs []*renderedObject
	for _, man := range res.Rendered.Manifests {
		src := loadTemplateSource(m.Dir, man.Template)
		reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(man.Content)))
		for doc := 0; ; doc++ {
			chunk, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				c.add(LinterTemplates, "helm-render", man.Template, 0, "rendered output is not YAML: %v", err)
				break
			}
			if len(bytes.TrimSpace(chunk)) == 0 {
				doc--
				continue
			}
			raw := map[string]any{}
			if err := sigsyaml.Unmarshal(chunk, &raw); err != nil {
				c.add(LinterTemplates, "helm-render", man.Template, src.line(doc, ""), "rendered document %d is not valid YAML: %v", doc, err)
				continue
			}
			if len(raw) == 0 {
				doc--
				continue
			}
			obj := &renderedObject{template: man.Template, doc: doc, raw: raw, src: src}
			obj.ref.Kind, _ = raw["kind"].(string)
			meta, _ := raw["metadata"].(map[string]any)
			obj.ref.Name, _ = meta["name"].(string)
			obj.ref.Namespace, _ = meta["namespace"].(string)
			apiVersion, _ := raw["apiVersion"].(string)
			if apiVersion == "" || obj.ref.Kind == "" || obj.ref.Name == "" {
				c.add(LinterTemplates, "helm-render", man.Template, src.line(doc, ""), "rendered document %d lacks apiVersion, kind or metadata.name", doc)
				continue
			}
			id := apiVersion + "/" + obj.ref.Kind + "/" + obj.ref.Namespace + "/" + obj.ref.Name
			if prev, dup := names[id]; dup {
				c.addProblem(obj.problem(LinterContainer, "name-duplicates", "", "name:", "rendered twice (also in %s)", prev))
			}
			names[id] = man.Template
			lintNamespace(c, obj, apiVersion, crdScopes)
			lintObject(c, obj, apiVersion)
			objs = append(objs, obj)
		}
	}
	lintContainerModule(c, m, objs)
	lintTemplateObjects(c, m, objs)
	lintObjectSet(c, m, objs)
}

// lintClusterDomain runs templates/cluster-domain: the cluster domain comes
// from .Values.global.discovery.clusterDomain, never a literal cluster.local.
func lintClusterDomain(c *collector, m *module.Module) {
	root := filepath.Join(m.Dir, "templates")
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		rel := relTo(m.Dir, path)
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "cluster.local") {
				c.add(LinterTemplates, "cluster-domain", rel, i+1, "literal cluster.local: use .Values.global.discovery.clusterDomain")
			}
		}
		return nil
	})
}

func reportRenderError(c *collector, m *module.Module, err error, when string) {
	var ve *values.ValidationError
	if errors.As(err, &ve) {
		file := relTo(m.Dir, m.Schemas.ValuesFile)
		if strings.Contains(err.Error(), "settings of module") {
			file = relTo(m.Dir, m.Schemas.ConfigFile)
		}
		c.add(LinterTemplates, "helm-render", file, 0, "building values %s: %v", when, err)
		return
	}
	if strings.HasPrefix(err.Error(), "values.yaml:") {
		c.add(LinterTemplates, "helm-render", "values.yaml", 0, "building values %s: %v", when, err)
		return
	}
	// The innermost location (the last one Helm prints) is where the template broke.
	if all := helmErrLoc.FindAllStringSubmatch(err.Error(), -1); all != nil {
		loc := all[len(all)-1]
		line, _ := strconv.Atoi(loc[2])
		c.add(LinterTemplates, "helm-render", loc[1], line, "rendering %s: %v", when, err)
		return
	}
	c.add(LinterTemplates, "helm-render", "templates", 0, "rendering %s: %v", when, err)
}

func lintExampleRenders(ctx context.Context, c *collector, m *module.Module, kubeVersion string) {
	if m.Schemas.Config == nil {
		return
	}
	list, _ := m.Schemas.Config.Extensions["x-examples"].([]any)
	for i, ex := range list {
		settings, ok := ex.(map[string]any)
		if !ok {
			continue
		}
		r := &module.Render{KubeVersion: kubeVersion, Settings: settings, StubRequiredForHelm: true}
		if _, err := r.Run(ctx, m); err != nil {
			var ve *values.ValidationError
			if errors.As(err, &ve) {
				continue // reported by the x-examples rule
			}
			reportRenderError(c, m, err, fmt.Sprintf("with x-examples[%d] of %s", i, relTo(m.Dir, m.Schemas.ConfigFile)))
		}
	}
}

func relTo(dir, path string) string {
	if path == "" {
		return ""
	}
	if rel, err := filepath.Rel(dir, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}

// lintNamespace runs templates/namespace: namespaced objects must say where
// they go. Neither dmt nor DKP rejects what this rule finds (Helm puts an
// object without a namespace into the release namespace, and the API server
// drops the namespace of a cluster-scoped object), so only a missing
// namespace on a kind known to be namespaced is an error; a namespace on a
// cluster-scoped object, or a missing one on a kind of unknown scope (another
// module's CRD), is a warning.
func lintNamespace(c *collector, o *renderedObject, apiVersion string, crdScopes map[string]bool) {
	group := ""
	if i := strings.Index(apiVersion, "/"); i > 0 {
		group = apiVersion[:i]
	}
	cluster, known := crdScopes[group+"/"+o.ref.Kind]
	if !known {
		cluster = clusterScopedKinds[o.ref.Kind]
		known = cluster || builtinGroup(group)
	}
	switch {
	case cluster && o.ref.Namespace != "":
		p := o.problem(LinterTemplates, "namespace", "", "namespace:", "cluster-scoped object sets metadata.namespace, which the API server ignores: drop it")
		p.Severity = SeverityWarning
		c.addProblem(p)
	case !cluster && o.ref.Namespace == "":
		p := o.problem(LinterTemplates, "namespace", "", "metadata:", "namespaced object has no metadata.namespace: set it (modules run in d8-<module> namespaces)")
		if !known {
			p.Severity = SeverityWarning
			p.Message = o.ref.String() + ": no metadata.namespace, and deckhand does not know whether " + o.ref.Kind + " (" + apiVersion + ") is namespaced: set it if it is"
		}
		c.addProblem(p)
	}
}

// builtinGroup is true for API groups whose kinds' scopes deckhand knows
// (clusterScopedKinds lists their cluster-scoped kinds): core, the
// unsuffixed groups (apps, batch, policy, autoscaling), *.k8s.io, and
// prometheus-operator's monitoring.coreos.com.
func builtinGroup(group string) bool {
	return !strings.Contains(group, ".") || group == "monitoring.coreos.com" ||
		strings.HasSuffix(group, ".k8s.io") && !strings.HasSuffix(group, ".x-k8s.io")
}

// loadCRDScopes maps "<group>/<Kind>" of the module's own CRDs to true when cluster-scoped.
func loadCRDScopes(m *module.Module) map[string]bool {
	out := map[string]bool{}
	for _, rel := range m.CRDs {
		data, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(rel)))
		if err != nil {
			continue
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			chunk, err := reader.Read()
			if err != nil {
				break
			}
			var crd struct {
				Spec struct {
					Group string `json:"group"`
					Scope string `json:"scope"`
					Names struct {
						Kind string `json:"kind"`
					} `json:"names"`
				} `json:"spec"`
			}
			if sigsyaml.Unmarshal(chunk, &crd) == nil && crd.Spec.Names.Kind != "" {
				out[crd.Spec.Group+"/"+crd.Spec.Names.Kind] = crd.Spec.Scope == "Cluster"
			}
		}
	}
	return out
}

// templateSource finds lines in a template file for rendered objects.
type templateSource struct {
	lines     []string
	docStarts []int // 1-based first line of each YAML document
}

func loadTemplateSource(dir, rel string) *templateSource {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return &templateSource{}
	}
	s := &templateSource{lines: strings.Split(string(data), "\n")}
	start := 0
	for i, l := range s.lines {
		if strings.HasPrefix(l, "---") {
			if hasContent(s.lines[start:i]) {
				s.docStarts = append(s.docStarts, start+1)
			}
			start = i + 1
		}
	}
	if hasContent(s.lines[start:]) {
		s.docStarts = append(s.docStarts, start+1)
	}
	return s
}

func hasContent(lines []string) bool {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "{{-") && !strings.HasPrefix(t, "{{/*") {
			return true
		}
	}
	return false
}

// line returns the line in the template of the first line containing needle in
// document doc (or the document's first line); 0 when the template does not
// map one-to-one to rendered documents.
func (s *templateSource) line(doc int, needle string) int {
	if s == nil || doc >= len(s.docStarts) {
		return 0
	}
	start := s.docStarts[doc]
	end := len(s.lines)
	if doc+1 < len(s.docStarts) {
		end = s.docStarts[doc+1] - 1
	}
	if needle != "" {
		for i := start - 1; i < end && i < len(s.lines); i++ {
			if strings.Contains(s.lines[i], needle) {
				return i + 1
			}
		}
	}
	for i := start - 1; i < end && i < len(s.lines); i++ {
		if t := strings.TrimSpace(s.lines[i]); t != "" && !strings.HasPrefix(t, "#") {
			return i + 1
		}
	}
	return start
}
