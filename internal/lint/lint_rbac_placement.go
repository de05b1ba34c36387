package lint

import (
	"strings"
)

// lintRBACPlacement runs rbac/placement: RBAC objects live in
// <dir>/rbac-for-us.yaml (what the module's own components may do) or
// <dir>/rbac-to-us.yaml (what others may do to the module), and their names
// and namespaces follow from the directory. Objects in
// user-authz-cluster-roles.yaml and under templates/rbac* are not checked
// (see rbacSkipPrefix).
func lintRBACPlacement(c *collector, s *objectSet, o *renderedObject) {
	path := o.template
	if path == userAuthzFile || strings.HasPrefix(path, rbacSkipPrefix) {
		return
	}
	switch o.ref.Kind {
	case "ServiceAccount":
		placeServiceAccount(c, s, o)
	case "ClusterRole", "ClusterRoleBinding":
		if !strings.HasSuffix(path, rbacForUs) {
			placementProblem(c, o, "%s must be in %s, templates/%s or <dir>/%s", o.ref.Kind, userAuthzFile, rbacForUs, rbacForUs)
			return
		}
		if prefix := "d8:" + s.module; !strings.HasPrefix(o.ref.Name, prefix) {
			placementProblem(c, o, "%s name must start with %q", o.ref.Kind, prefix+":"+strings.Join(rbacDirParts(path, rbacForUs), ":"))
		}
	case "Role", "RoleBinding":
		switch {
		case strings.HasSuffix(path, rbacForUs):
			placeRoleForUs(c, s, o)
		case strings.HasSuffix(path, rbacToUs):
			placeRoleToUs(c, s, o)
		default:
			placementProblem(c, o, "%s must be in templates/%s, templates/%s, <dir>/%s or <dir>/%s", o.ref.Kind, rbacForUs, rbacToUs, rbacForUs, rbacToUs)
		}
	default:
		if strings.HasSuffix(path, rbacForUs) || strings.HasSuffix(path, rbacToUs) {
			placementProblem(c, o, "kind %s is not allowed in RBAC files: move it to another template", o.ref.Kind)
		}
	}
}

func placementProblem(c *collector, o *renderedObject, format string, args ...any) {
	objProblem(c, o, LinterRBAC, "placement", "name:", format, args...)
}

// rbacDirParts are the directories between templates/ and file:
// templates/a/b/rbac-for-us.yaml gives [a b].
func rbacDirParts(path, file string) []string {
	return strings.Split(strings.TrimPrefix(strings.TrimSuffix(path, "/"+file), "templates/"), "/")
}

// placeServiceAccount: in templates/<a>/<b>/rbac-for-us.yaml a ServiceAccount
// is named a-b in the module's namespace, <module>-a-b in a shared DKP
// namespace, or d8-<module>-a-b in default or kube-system.
func placeServiceAccount(c *collector, s *objectSet, o *renderedObject) {
	if !strings.HasSuffix(o.template, rbacForUs) {
		placementProblem(c, o, "ServiceAccount must be in templates/%s or <dir>/%s", rbacForUs, rbacForUs)
		return
	}
	local := strings.Join(rbacDirParts(o.template, rbacForUs), "-")
	global := s.module + "-" + local
	ns := s.namespaceOf(o)
	switch {
	case isKubeSystemNamespace(ns):
		if o.ref.Name != "d8-"+global {
			placementProblem(c, o, "ServiceAccount in %s must be named %q", ns, "d8-"+global)
		}
	case o.ref.Name == local:
		if ns != s.namespace {
			if isDeckhouseNamespace(ns) {
				placementProblem(c, o, "ServiceAccount %q must be in namespace %s; to keep namespace %s, name it %q", local, s.namespace, ns, global)
			} else {
				placementProblem(c, o, "ServiceAccount %q must be in namespace %s", local, s.namespace)
			}
		}
	case o.ref.Name == global:
		if !isDeckhouseNamespace(ns) {
			if ns == s.namespace {
				placementProblem(c, o, "ServiceAccount %q must be in a shared DKP namespace (d8-system, d8-monitoring); in %s, name it %q", global, ns, local)
			} else {
				placementProblem(c, o, "ServiceAccount %q must be in a shared DKP namespace (d8-system, d8-monitoring)", global)
			}
		}
	case strings.HasPrefix(o.ref.Name, "istiod") && ns == "d8-istio":
		// istio-operator names istiod's ServiceAccount per version; dmt accepts it.
	default:
		placementProblem(c, o, "ServiceAccount must be named %q or %q (from its directory)", local, global)
	}
}

// placeRoleForUs: Roles and RoleBindings in <dir>/rbac-for-us.yaml start
// with the directory path joined by ":" (in the module namespace), with
// <module>:<path> (in a shared DKP namespace) or d8:<module>:<path> (in
// default or kube-system).
func placeRoleForUs(c *collector, s *objectSet, o *renderedObject) {
	dirs := strings.Join(rbacDirParts(o.template, rbacForUs), ":")
	global := s.module + ":" + dirs
	system := "d8:" + global
	ns := s.namespaceOf(o)
	switch {
	case strings.HasPrefix(o.ref.Name, dirs):
		if ns != s.namespace {
			placementProblem(c, o, "%s named %q... must be in namespace %s", o.ref.Kind, dirs, s.namespace)
		}
	case strings.HasPrefix(o.ref.Name, global):
		if !isDeckhouseNamespace(ns) {
			placementProblem(c, o, "%s named %q... must be in a shared DKP namespace (d8-system, d8-monitoring)", o.ref.Kind, global)
		}
	case strings.HasPrefix(o.ref.Name, system):
		if !isKubeSystemNamespace(ns) {
			placementProblem(c, o, "%s named %q... must be in namespace default or kube-system", o.ref.Kind, system)
		}
	default:
		placementProblem(c, o, "%s in %s must be named %q... or %q...", o.ref.Kind, o.template, dirs, global)
	}
}

// placeRoleToUs: Roles and RoleBindings in <dir>/rbac-to-us.yaml are named
// access-to-<path>-... (module namespace) or access-to-<module>-<path>-...
// (shared DKP namespace).
func placeRoleToUs(c *collector, s *objectSet, o *renderedObject) {
	dirs := strings.Join(rbacDirParts(o.template, rbacToUs), "-")
	local := "access-to-" + dirs + "-"
	global := "access-to-" + s.module + "-" + dirs + "-"
	ns := s.namespaceOf(o)
	switch {
	case strings.HasPrefix(o.ref.Name, local):
		if ns != s.namespace {
			placementProblem(c, o, "%s named %q... must be in namespace %s", o.ref.Kind, local, s.namespace)
		}
	case strings.HasPrefix(o.ref.Name, global):
		if !isDeckhouseNamespace(ns) {
			placementProblem(c, o, "%s named %q... must be in a shared DKP namespace (d8-system, d8-monitoring)", o.ref.Kind, global)
		}
	default:
		placementProblem(c, o, "%s must be named %q... or %q...", o.ref.Kind, local, global)
	}
}
