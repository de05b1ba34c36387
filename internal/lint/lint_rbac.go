package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ettle/strcase"
)

// dmt's rbac linter: user-authz, binding-subject, placement, wildcards.
// Where dmt stops at the first finding of a rule in the whole module,
// deckhand reports every finding: the module fails either way, and the
// author sees all of them at once.

const (
	userAuthzFile = "templates/user-authz-cluster-roles.yaml"
	rbacForUs     = "rbac-for-us.yaml"
	rbacToUs      = "rbac-to-us.yaml"
	// rbacSkipPrefix is where dmt's placement rule does not look. It is a
	// plain prefix, so templates/rbac-for-us.yaml and templates/rbac-to-us.yaml
	// (and templates/rbac/, DKP's RBACv2 roles) are skipped too; deckhand
	// skips the same files so that a module dmt accepts is accepted here.
	rbacSkipPrefix = "templates/rbac"
)

// deckhouseNamespaces are the shared DKP namespaces modules may put RBAC
// objects into besides their own (dmt's list).
var deckhouseNamespaces = []string{"d8-monitoring", "d8-system", "d8-admission-policy-engine",
	"d8-operator-trivy", "d8-log-shipper", "d8-local-path-provisioner"}

func isDeckhouseNamespace(ns string) bool { return slices.Contains(deckhouseNamespaces, ns) }

// isKubeSystemNamespace: "default" and "kube-system", where d8:-prefixed objects go.
func isKubeSystemNamespace(ns string) bool { return ns == "default" || ns == "kube-system" }

func lintRBAC(c *collector, s *objectSet) {
	for _, o := range s.objs {
		lintUserAuthz(c, s, o)
		lintBindingSubjects(c, s, o)
		lintRBACPlacement(c, s, o)
		lintRoleWildcards(c, o)
	}
}

func objProblem(c *collector, o *renderedObject, linter, rule, needle, format string, args ...any) {
	c.addProblem(o.problem(linter, rule, "", needle, format, args...))
}

// lintUserAuthz runs rbac/user-authz: templates/user-authz-cluster-roles.yaml
// holds only ClusterRoles named d8:user-authz:<module>:<access level in
// kebab-case>, each with the user-authz.deckhouse.io/access-level annotation.
func lintUserAuthz(c *collector, s *objectSet, o *renderedObject) {
	if o.template != userAuthzFile {
		return
	}
	if o.ref.Kind != "ClusterRole" {
		objProblem(c, o, LinterRBAC, "user-authz", "kind:", "only ClusterRoles may be in %s: move this %s elsewhere", userAuthzFile, o.ref.Kind)
		return
	}
	v, has := mapAt(o.raw, "metadata", "annotations")["user-authz.deckhouse.io/access-level"]
	level, _ := v.(string)
	if !has {
		objProblem(c, o, LinterRBAC, "user-authz", "metadata:", "user-authz ClusterRoles need the annotation user-authz.deckhouse.io/access-level")
		return
	}
	want := fmt.Sprintf("d8:user-authz:%s:%s", s.module, strcase.ToKebab(level))
	if o.ref.Name != want {
		objProblem(c, o, LinterRBAC, "user-authz", "name:", "user-authz ClusterRole must be named %q (module name and access level %q in kebab-case)", want, level)
	}
}

// lintBindingSubjects runs rbac/binding-subject: a (Cluster)RoleBinding that
// names a ServiceAccount in the module's namespace binds one the module
// renders. The Problem's Key is the ServiceAccount name, which is what dmt's
// exclude-rules entries for this rule name.
func lintBindingSubjects(c *collector, s *objectSet, o *renderedObject) {
	if o.ref.Kind != "RoleBinding" && o.ref.Kind != "ClusterRoleBinding" {
		return
	}
	subjects, _ := o.raw["subjects"].([]any)
	for _, raw := range subjects {
		sub, _ := raw.(map[string]any)
		kind, _ := sub["kind"].(string)
		name, _ := sub["name"].(string)
		ns, _ := sub["namespace"].(string)
		if kind != "ServiceAccount" || allowedForeignSubject(s.module, name, ns) {
			continue
		}
		if ns == s.namespace && !s.has("ServiceAccount", name, ns) {
			p := o.problem(LinterRBAC, "binding-subject", "", "name: "+name,
				"%s binds ServiceAccount %s/%s, which the module does not render: fix the subject or add the ServiceAccount", o.ref.Kind, ns, name)
			p.Key = name
			c.addProblem(p)
		}
	}
}

// allowedForeignSubject: ServiceAccounts of other modules that DKP modules
// bind on purpose (dmt's list).
func allowedForeignSubject(module, name, ns string) bool {
	switch {
	case name == "prometheus" && ns == "d8-monitoring":
		return true
	case module == "loki" && name == "grafana" && ns == "d8-monitoring":
		return true
	case module == "loki" && name == "log-shipper" && ns == "d8-log-shipper":
		return true
	}
	return false
}

// lintRoleWildcards runs rbac/wildcards: Roles and ClusterRoles in
// rbac-for-us.yaml files grant explicit apiGroups, resources and verbs.
func lintRoleWildcards(c *collector, o *renderedObject) {
	if !strings.HasSuffix(o.template, rbacForUs) || (o.ref.Kind != "Role" && o.ref.Kind != "ClusterRole") {
		return
	}
	rules, _ := o.raw["rules"].([]any)
	for _, raw := range rules {
		r, _ := raw.(map[string]any)
		var fields []string
		for _, f := range []string{"apiGroups", "resources", "verbs"} {
			list, _ := r[f].([]any)
			if slices.Contains(list, any("*")) {
				fields = append(fields, f)
			}
		}
		if len(fields) > 0 {
			// One finding per role, as dmt: the first wildcard rule is enough to fix.
			objProblem(c, o, LinterRBAC, "wildcards", "*", "%s contain a wildcard: list the allowed %s explicitly", strings.Join(fields, ", "), strings.Join(fields, ", "))
			return
		}
	}
}
