package lint

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// LinterRBAC is dmt's rbac linter.
const LinterRBAC = "rbac"

// objectSet is every object the chart rendered with default values, for the
// rules that look at several objects at once (a binding and its
// ServiceAccount, a Deployment and its VPA).
type objectSet struct {
	module string
	// namespace is the module's namespace as dmt sees it (module.yaml, else
	// the .namespace file dmt's tests use, else where deckhand installs).
	namespace string
	objs      []*renderedObject
}

// lintObjectSet runs the rules that need the whole rendered module.
func lintObjectSet(c *collector, m *module.Module, objs []*renderedObject) {
	s := &objectSet{module: m.Name, namespace: dmtNamespace(m), objs: objs}
	lintRBAC(c, s)
	lintVPA(c, s)
	lintPDB(c, s)
	lintKubeRBACProxyCA(c, s)
	lintWebhookConfigurations(c, s)
	lintPrometheusRuleObjects(c, s)
	lintMonitoring(c, m)
}

func dmtNamespace(m *module.Module) string {
	if m.Definition != nil && m.Definition.Namespace != "" {
		return m.Definition.Namespace
	}
	if data, err := os.ReadFile(filepath.Join(m.Dir, ".namespace")); err == nil {
		if ns := strings.TrimSpace(string(data)); ns != "" {
			return ns
		}
	}
	return m.Namespace()
}

// namespaceOf is where the object lands: Helm puts a namespaced object
// without metadata.namespace into the release namespace, and dmt's object
// store does the same, so cross-object lookups use it.
func (s *objectSet) namespaceOf(o *renderedObject) string {
	if o.ref.Namespace == "" && !clusterScopedKinds[o.ref.Kind] {
		return s.namespace
	}
	return o.ref.Namespace
}

// has reports whether an object of kind and name is rendered into namespace ns.
func (s *objectSet) has(kind, name, ns string) bool {
	for _, o := range s.objs {
		if o.ref.Kind == kind && o.ref.Name == name && s.namespaceOf(o) == ns {
			return true
		}
	}
	return false
}

// mapAt walks raw along keys, returning nil when any step is not an object.
func mapAt(raw map[string]any, keys ...string) map[string]any {
	cur := raw
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

func stringsAt(m map[string]any, key string) map[string]string {
	raw, _ := m[key].(map[string]any)
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}
