package lint

import (
	"strings"
	"testing"
)

// objectCase is a module (scaffolded as "m", namespace d8-m) plus extra
// files, and the problems of one rule expected from it: want lists message
// parts that must be reported (in file), none means the rule reports nothing
// for file.
type objectCase struct {
	name  string
	files map[string]string
	rule  string
	file  string
	want  []string
}

func runObjectCases(t *testing.T, linter string, cases []objectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := newModule(t, "m")
			for rel, content := range tc.files {
				writeFile(t, dir, rel, content, 0o644)
			}
			res := lint(t, dir)
			// An "ok" case proves nothing if nothing was rendered.
			if hasRule(res, "helm-render") {
				t.Fatalf("the case does not render:\n%s", problemsText(res.Problems))
			}
			var got []Problem
			for _, p := range res.Problems {
				if p.Linter == linter && p.Rule == tc.rule && p.File == tc.file {
					got = append(got, p)
				}
			}
			if len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("want no %s problem in %s, got:\n%s", tc.rule, tc.file, problemsText(got))
			}
			for _, w := range tc.want {
				wantProblem(t, &LintResult{Problems: got}, tc.file, 0, tc.rule, w)
			}
		})
	}
}

const rbacHeader = "apiVersion: rbac.authorization.k8s.io/v1\n"

func doc(parts ...string) string { return strings.Join(parts, "---\n") }

func sa(name, ns string) string {
	meta := "  name: " + name + "\n"
	if ns != "" {
		meta += "  namespace: " + ns + "\n"
	}
	return "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n" + meta
}

func role(kind, name, ns, rules string) string {
	meta := "  name: " + name + "\n"
	if ns != "" {
		meta += "  namespace: " + ns + "\n"
	}
	return rbacHeader + "kind: " + kind + "\nmetadata:\n" + meta + "rules:\n" + rules
}

func binding(kind, name, ns, subjectName, subjectNS string) string {
	meta := "  name: " + name + "\n"
	if ns != "" {
		meta += "  namespace: " + ns + "\n"
	}
	return rbacHeader + "kind: " + kind + "\nmetadata:\n" + meta +
		"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: x}\n" +
		"subjects:\n  - {kind: ServiceAccount, name: " + subjectName + ", namespace: " + subjectNS + "}\n"
}

const explicitRules = "  - {apiGroups: [\"\"], resources: [pods], verbs: [get]}\n"

func authzRole(kind, name, level string) string {
	ann := ""
	if level != "" {
		ann = "  annotations: {user-authz.deckhouse.io/access-level: " + level + "}\n"
	}
	return rbacHeader + "kind: " + kind + "\nmetadata:\n  name: " + name + "\n" + ann + "rules:\n" + explicitRules
}

func TestRBACRules(t *testing.T) {
	const authz = "templates/user-authz-cluster-roles.yaml"
	const nested = "templates/webhook/rbac-for-us.yaml"
	const nestedTo = "templates/webhook/rbac-to-us.yaml"
	runObjectCases(t, LinterRBAC, []objectCase{
		{name: "user-authz/ok", rule: "user-authz", file: authz,
			files: map[string]string{authz: authzRole("ClusterRole", "d8:user-authz:m:super-admin", "SuperAdmin")}},
		{name: "user-authz/name", rule: "user-authz", file: authz, want: []string{`must be named "d8:user-authz:m:admin"`},
			files: map[string]string{authz: authzRole("ClusterRole", "m-admin", "Admin")}},
		{name: "user-authz/annotation", rule: "user-authz", file: authz, want: []string{"need the annotation user-authz.deckhouse.io/access-level"},
			files: map[string]string{authz: authzRole("ClusterRole", "d8:user-authz:m:admin", "")}},
		{name: "user-authz/kind", rule: "user-authz", file: authz, want: []string{"only ClusterRoles"},
			files: map[string]string{authz: authzRole("Role", "d8:user-authz:m:admin", "Admin")}},

		{name: "binding-subject/ok", rule: "binding-subject", file: nested, files: map[string]string{nested: doc(
			sa("webhook", ""), // no namespace: Helm puts it into d8-m
			binding("RoleBinding", "webhook", "d8-m", "webhook", "d8-m"),
			binding("ClusterRoleBinding", "d8:m:webhook:prom", "", "prometheus", "d8-monitoring"),
			binding("ClusterRoleBinding", "d8:m:webhook:other", "", "ghost", "d8-other"))}},
		{name: "binding-subject/missing", rule: "binding-subject", file: nested, want: []string{"binds ServiceAccount d8-m/ghost, which the module does not render"},
			files: map[string]string{nested: doc(sa("webhook", "d8-m"), binding("ClusterRoleBinding", "d8:m:webhook", "", "ghost", "d8-m"))}},

		{name: "placement/ok", rule: "placement", file: nested, files: map[string]string{
			nested: doc(sa("webhook", "d8-m"), sa("m-webhook", "d8-system"), sa("d8-m-webhook", "kube-system"),
				role("ClusterRole", "d8:m:webhook", "", explicitRules), role("Role", "webhook:reader", "d8-m", explicitRules),
				role("Role", "m:webhook:reader", "d8-monitoring", explicitRules)),
			nestedTo: role("Role", "access-to-webhook-reader", "d8-m", explicitRules)}},
		{name: "placement/root-files-skipped-as-dmt", rule: "placement", file: "templates/rbac-for-us.yaml",
			files: map[string]string{"templates/rbac-for-us.yaml": doc(sa("anything", "d8-elsewhere"), role("Role", "whatever", "d8-elsewhere", explicitRules))}},
		{name: "placement/sa-file", rule: "placement", file: "templates/sa.yaml", want: []string{"ServiceAccount must be in templates/rbac-for-us.yaml"},
			files: map[string]string{"templates/sa.yaml": sa("m", "d8-m")}},
		{name: "placement/sa-name", rule: "placement", file: nested, want: []string{`must be named "webhook" or "m-webhook"`},
			files: map[string]string{nested: sa("hook", "d8-m")}},
		{name: "placement/sa-namespace", rule: "placement", file: nested, want: []string{`to keep namespace d8-system, name it "m-webhook"`},
			files: map[string]string{nested: sa("webhook", "d8-system")}},
		{name: "placement/cluster-role-name", rule: "placement", file: nested, want: []string{`name must start with "d8:m:webhook"`},
			files: map[string]string{nested: role("ClusterRole", "webhook", "", explicitRules)}},
		{name: "placement/role-namespace", rule: "placement", file: nested, want: []string{`Role named "webhook"... must be in namespace d8-m`},
			files: map[string]string{nested: role("Role", "webhook-reader", "d8-system", explicitRules)}},
		{name: "placement/to-us-name", rule: "placement", file: nestedTo, want: []string{`must be named "access-to-webhook-"... or "access-to-m-webhook-"...`},
			files: map[string]string{nestedTo: role("Role", "reader", "d8-m", explicitRules)}},
		{name: "placement/kind", rule: "placement", file: nested, want: []string{"kind ConfigMap is not allowed"},
			files: map[string]string{nested: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: webhook, namespace: d8-m}\n"}},

		{name: "wildcards/ok", rule: "wildcards", file: "templates/rbac-for-us.yaml",
			files: map[string]string{"templates/rbac-for-us.yaml": role("ClusterRole", "d8:m", "", explicitRules)}},
		{name: "wildcards/outside-rbac-for-us", rule: "wildcards", file: "templates/other.yaml",
			files: map[string]string{"templates/other.yaml": role("ClusterRole", "d8:m:x", "", "  - {apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}\n")}},
		{name: "wildcards/star", rule: "wildcards", file: "templates/rbac-for-us.yaml", want: []string{"apiGroups, verbs contain a wildcard"},
			files: map[string]string{"templates/rbac-for-us.yaml": role("ClusterRole", "d8:m", "", explicitRules+"  - {apiGroups: [\"*\"], resources: [pods], verbs: [\"*\"]}\n")}},
	})
}

func TestRBACExclusions(t *testing.T) {
	dir := newModule(t, "m")
	writeFile(t, dir, "templates/webhook/rbac-for-us.yaml", doc(
		sa("hook", "d8-m"),
		binding("ClusterRoleBinding", "d8:m:webhook", "", "ghost", "d8-m"),
		role("ClusterRole", "d8:m:webhook", "", "  - {apiGroups: [\"*\"], resources: [pods], verbs: [get]}\n")), 0o644)
	res := lint(t, dir)
	for _, rule := range []string{"binding-subject", "placement", "wildcards"} {
		wantProblem(t, res, "templates/webhook/rbac-for-us.yaml", 0, rule, "")
	}
	writeFile(t, dir, LintConfigFile, `linters-settings:
  rbac:
    exclude-rules:
      binding-subject: [ghost]
      placement:
        - {kind: ServiceAccount, name: hook}
      wildcards:
        - {kind: ClusterRole, name: "d8:m:webhook"}
`, 0o644)
	res = lint(t, dir)
	for _, p := range res.Problems {
		if p.Linter == LinterRBAC || p.Rule == "dmtlint" {
			t.Errorf("excluded or unsupported: %s", p)
		}
	}
}
