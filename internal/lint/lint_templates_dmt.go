package lint

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// The templates linter rules dmt runs besides helm-render, namespace,
// service-port and cluster-domain (lint_templates.go).

// enabledModulesHas finds `.Values.global.enabledModules | has "<name>"`.
var enabledModulesHas = regexp.MustCompile(`\.Values\.global\.enabledModules\s*\|\s*has\s+"([^"]*)"`)

// crdModulesRemoved is the DKP release that dropped the standalone "<module>-crd"
// modules (their CRDs moved into the parent modules).
const crdModulesRemoved = "1.65.0"

// lintTemplateFiles runs the templates rules that read module files rather
// than rendered objects: crd-enabled-modules, registry and werf.
// enabled-modules is not checked: dmt has switched that rule off for every
// file, so reporting it would fail modules dmt passes.
func lintTemplateFiles(c *collector, m *module.Module) {
	lintCRDEnabledModules(c, m)
	lintRegistrySecret(c, m)
	lintWerfImages(c, m)
}

// lintCRDEnabledModules runs templates/crd-enabled-modules: a module for DKP
// 1.65+ must not test for the removed "<module>-crd" modules.
func lintCRDEnabledModules(c *collector, m *module.Module) {
	if m.Definition == nil || m.Definition.Requirements == nil || !minVersionAtLeast(m.Definition.Requirements.Deckhouse, crdModulesRemoved) {
		return
	}
	walkTemplateFiles(m.Dir, func(rel string, data []byte) {
		for _, loc := range enabledModulesHas.FindAllSubmatchIndex(data, -1) {
			name := string(data[loc[2]:loc[3]])
			if !strings.HasSuffix(name, "-crd") {
				continue
			}
			line := bytes.Count(data[:loc[0]], []byte("\n")) + 1
			c.add(LinterTemplates, "crd-enabled-modules", rel, line,
				"enabledModules | has %q: the standalone -crd modules were removed in DKP %s, test for %q instead", name, crdModulesRemoved, strings.TrimSuffix(name, "-crd"))
		}
	})
}

// minVersionAtLeast is true when the constraint's lowest bound (>=, > or =)
// is at least min; a constraint without a lower bound is false.
func minVersionAtLeast(constraint, min string) bool {
	return constraint != "" && startsAtLeast(constraint, min)
}

// walkTemplateFiles calls fn for every .yaml, .yml and .tpl file under templates/.
func walkTemplateFiles(dir string, fn func(rel string, data []byte)) {
	_ = filepath.WalkDir(filepath.Join(dir, "templates"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml", ".tpl":
		default:
			return nil
		}
		if data, err := os.ReadFile(path); err == nil {
			fn(relTo(dir, path), data)
		}
		return nil
	})
}

// deckhouseRepos are the repositories whose modules get the registry secret
// from DKP itself, so the registry rule skips them.
var deckhouseRepos = stringSet("deckhouse", "deckhouse-test-1", "deckhouse-test-2")

// lintRegistrySecret runs templates/registry: a registry-secret.yaml that uses
// the global registry credentials must also use the module's own
// (.Values.<module>.registry.dockercfg), which modules from a ModuleSource get.
func lintRegistrySecret(c *collector, m *module.Module) {
	var file string
	_ = filepath.WalkDir(m.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || file != "" {
			return filepath.SkipAll
		}
		if !d.IsDir() && d.Name() == "registry-secret.yaml" {
			file = path
		}
		return nil
	})
	if file == "" || deckhouseRepos[gitOriginRepo(m.Dir)] {
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		c.add(LinterTemplates, "registry", relTo(m.Dir, file), 0, "reading the registry secret: %v", err)
		return
	}
	if !bytes.Contains(data, []byte(".Values.global.modulesImages.registry.dockercfg")) {
		return
	}
	own := ".Values." + m.ValuesKey + ".registry.dockercfg"
	if !bytes.Contains(data, []byte(own)) {
		c.add(LinterTemplates, "registry", relTo(m.Dir, file), 0,
			"uses .Values.global.modulesImages.registry.dockercfg but not %s: a module from a ModuleSource pulls with its own registry credentials", own)
	}
}

// gitOriginRepo is the last path element of the origin remote of the git
// repository holding dir ("" when there is none).
func gitOriginRepo(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, ".git", "config"))
		if err == nil {
			return originName(data)
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func originName(gitConfig []byte) string {
	inOrigin := false
	sc := bufio.NewScanner(bytes.NewReader(gitConfig))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			inOrigin = line == `[remote "origin"]`
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !inOrigin || !ok || strings.TrimSpace(k) != "url" {
			continue
		}
		url := strings.TrimSuffix(strings.TrimSpace(v), ".git")
		return url[strings.LastIndexAny(url, "/:")+1:]
	}
	return ""
}

// lintTemplateObjects runs the templates rules on the rendered objects:
// ingress-rules, httproute-rules and mount-points.
func lintTemplateObjects(c *collector, m *module.Module, objs []*renderedObject) {
	byKind := map[string][]*renderedObject{}
	for _, o := range objs {
		byKind[o.ref.Kind] = append(byKind[o.ref.Kind], o)
	}
	for _, ing := range byKind["Ingress"] {
		lintIngressSnippet(c, ing)
		lintIngressHasRoute(c, ing, byKind["HTTPRoute"], byKind["ListenerSet"])
	}
	lintMountPointsUsed(c, m, objs)
}

// lintIngressSnippet runs templates/ingress-rules: a configuration snippet
// replaces lib-helm's, so it must keep its HSTS header.
func lintIngressSnippet(c *collector, o *renderedObject) {
	meta, _ := o.raw["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	snippet, has := ann["nginx.ingress.kubernetes.io/configuration-snippet"]
	if !has {
		return
	}
	if s, _ := snippet.(string); !strings.Contains(s, "add_header Strict-Transport-Security") {
		c.addProblem(o.problem(LinterTemplates, "ingress-rules", "", "configuration-snippet",
			`annotation nginx.ingress.kubernetes.io/configuration-snippet lacks "add_header Strict-Transport-Security": include "helm_lib_module_ingress_configuration_snippet" in it`))
	}
}

// lintIngressHasRoute runs templates/httproute-rules: every Ingress comes with
// a Gateway API HTTPRoute (same "app" label) attached to one of the module's
// ListenerSets. Both findings carry the Ingress as their object, because
// dmt's exclusions for this rule name the Ingress.
func lintIngressHasRoute(c *collector, ing *renderedObject, routes, listenerSets []*renderedObject) {
	app := labelOf(ing, "app")
	var route *renderedObject
	for _, r := range routes {
		if app != "" && labelOf(r, "app") == app {
			route = r
			break
		}
	}
	if route == nil {
		c.addProblem(ing.problem(LinterTemplates, "httproute-rules", "", "metadata:",
			`no HTTPRoute with the label app=%q ships with this Ingress: add a Gateway API HTTPRoute attached to a ListenerSet of the module`, app))
		return
	}
	spec, _ := route.raw["spec"].(map[string]any)
	refs, _ := spec["parentRefs"].([]any)
	if len(refs) > 0 {
		for _, r := range refs {
			rm, _ := r.(map[string]any)
			name, _ := rm["name"].(string)
			for _, ls := range listenerSets {
				if name != "" && ls.ref.Name == name {
					return
				}
			}
		}
	}
	p := route.problem(LinterTemplates, "httproute-rules", "", "parentRefs",
		"%s does not replace Ingress %s: none of its spec.parentRefs names a ListenerSet of the module", route.ref.String(), ing.ref.Name)
	ref := ing.ref
	p.Object = &ref
	c.addProblem(p)
}

func labelOf(o *renderedObject, key string) string {
	meta, _ := o.raw["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	s, _ := labels[key].(string)
	return s
}

// lintMountPointsUsed runs templates/mount-points: every path a
// mount-points.yaml declares is mounted by some Deployment, DaemonSet or
// StatefulSet (the reverse of container/mount-points).
func lintMountPointsUsed(c *collector, m *module.Module, objs []*renderedObject) {
	byFile, bad := mountPointsByFile(m.Dir)
	for file, err := range bad {
		c.add(LinterTemplates, "mount-points", file, 0, "mount-points.yaml does not parse: %v", err)
	}
	if len(byFile) == 0 {
		return
	}
	used, controllers := map[string]bool{}, false
	for _, o := range objs {
		if !isPodController(o.ref.Kind) {
			continue
		}
		controllers = true
		if spec := podSpecOf(o); spec != nil {
			for _, ct := range append(append([]corev1.Container{}, spec.Containers...), spec.InitContainers...) {
				for _, vm := range ct.VolumeMounts {
					used[strings.TrimRight(vm.MountPath, "/")] = true
				}
			}
		}
	}
	if !controllers {
		return
	}
	for file, entries := range byFile {
		for _, e := range entries {
			path := strings.TrimRight(e, "/")
			if builtinMountPaths[path] || used[path] {
				continue
			}
			c.addProblem(Problem{File: file, Line: lineOf(m.Dir, file, e), Linter: LinterTemplates, Rule: "mount-points", Severity: SeverityWarning, Key: path,
				Message: fmt.Sprintf("%q is declared but no Deployment, DaemonSet or StatefulSet mounts it: drop it or mount it", e)})
		}
	}
}

// lineOf is the first line of a module file containing s (0 when none).
func lineOf(dir, rel, s string) int {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return 0
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 0
}
