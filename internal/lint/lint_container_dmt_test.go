package lint

import (
	"strings"
	"testing"
)

const digestImage = "registry.example.com/modules@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// goodWorkload passes every container rule; cases edit it with replacements.
const goodWorkload = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: w
  namespace: d8-ct
  labels: {module: ct, heritage: deckhouse}
spec:
  revisionHistoryLimit: 2
  selector: {matchLabels: {app: w}}
  template:
    metadata: {labels: {app: w}}
    spec:
      priorityClassName: cluster-low
      securityContext: {runAsNonRoot: true, runAsUser: 64535, runAsGroup: 64535, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: main
          image: ` + digestImage + `
          securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
          resources: {requests: {ephemeral-storage: 50Mi}}
          livenessProbe: {httpGet: {path: /, port: 8080}}
          readinessProbe: {httpGet: {path: /, port: 8080}}
          ports:
            - containerPort: 8080
          volumeMounts:
            - {name: data, mountPath: /var/lib/ct}
      volumes:
        - {name: data, emptyDir: {}}
`

// workload returns goodWorkload with each old string replaced by the next.
func workload(t *testing.T, pairs ...string) string {
	t.Helper()
	s := goodWorkload
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("workload has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

const hostNet = "      securityContext: {runAsNonRoot"

type ruleCase struct {
	name  string
	files map[string]string
	rule  string
	// want is the message part of the expected problem; "" means the rule
	// must report nothing.
	want     string
	severity Severity
	// edit, if set, changes the scaffolded module further.
	edit func(t *testing.T, dir string)
}

// runRuleCases lints a fresh module per case and checks only the case's rule.
func runRuleCases(t *testing.T, module string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := newModule(t, module)
			for rel, content := range tc.files {
				writeFile(t, dir, rel, content, 0o644)
			}
			if tc.edit != nil {
				tc.edit(t, dir)
			}
			res := lint(t, dir)
			var hits []Problem
			for _, p := range res.Problems {
				if p.Rule == tc.rule {
					hits = append(hits, p)
				}
			}
			if tc.want == "" {
				if len(hits) != 0 {
					t.Fatalf("rule %s reported on a passing module:\n%s", tc.rule, problemsText(hits))
				}
				return
			}
			for _, p := range hits {
				if strings.Contains(p.Message, tc.want) {
					if want := tc.severity; want == "" && p.Severity != SeverityError || want != "" && p.Severity != want {
						t.Errorf("severity %s, want %s (empty = error): %s", p.Severity, tc.severity, p)
					}
					return
				}
			}
			t.Fatalf("no %s problem with %q among:\n%s", tc.rule, tc.want, problemsText(res.Problems))
		})
	}
}

func TestContainerLinterDmtRules(t *testing.T) {
	const w = "templates/w.yaml"
	one := func(content string) map[string]string { return map[string]string{w: content} }
	hostNetwork := func(port string) string {
		return workload(t, hostNet, "      hostNetwork: true\n      dnsPolicy: ClusterFirstWithHostNet\n"+hostNet,
			"containerPort: 8080", "containerPort: "+port)
	}
	const mp = "images/ct/mount-points.yaml"
	promRule := `---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: r, namespace: d8-ct-mon, labels: {module: ct, heritage: deckhouse}}
spec: {groups: []}
`
	cases := []ruleCase{
		{name: "host-network-ports in range", files: one(hostNetwork("4210")), rule: "host-network-ports"},
		{name: "host-network-ports out of range", files: one(hostNetwork("8080")), rule: "host-network-ports", want: "containerPort 8080"},
		{name: "host-network-ports hostPort", files: one(workload(t, "containerPort: 8080", "containerPort: 8080\n              hostPort: 9000")), rule: "host-network-ports", want: "hostPort 9000"},
		{name: "ports above 1024", files: one(goodWorkload), rule: "ports"},
		{name: "ports 80 even with hostNetwork", files: one(hostNetwork("80")), rule: "ports", want: "containerPort 80"},
		{name: "image-digest from the module registry", files: one(goodWorkload), rule: "image-digest"},
		{name: "image-digest public image", files: one(workload(t, digestImage, "nginx:1.27")), rule: "image-digest", want: `"nginx:1.27"`},
		{name: "image-digest other registry", files: one(workload(t, "registry.example.com/modules@", "quay.io/x@")), rule: "image-digest", want: "not from the module registry"},
		{name: "container-image-name plain", files: map[string]string{
			"templates/_img.tpl": `{{- define "helm_lib_module_image" }}` + digestImage + `{{ end }}`,
			w:                    workload(t, "image: "+digestImage, `image: {{ include "helm_lib_module_image" (list . "myImage") }}`),
		}, rule: "container-image-name"},
		{name: "container-image-name underscore", files: map[string]string{
			"templates/_img.tpl": `{{- define "helm_lib_module_image" }}` + digestImage + `{{ end }}`,
			w:                    workload(t, "image: "+digestImage, `image: {{ include "helm_lib_module_image" (list . "my_image") }}`),
		}, rule: "container-image-name", want: `"my_image"`},
		{name: "sys-cgroup-mount both", files: one(workload(t, "mountPath: /var/lib/ct}", "mountPath: /sys}\n            - {name: data, mountPath: /sys/fs/cgroup}")), rule: "sys-cgroup-mount"},
		{name: "sys-cgroup-mount only /sys", files: one(workload(t, "mountPath: /var/lib/ct}", "mountPath: /sys/}")), rule: "sys-cgroup-mount", want: "/sys/fs/cgroup"},
		{name: "mount-points declared", files: map[string]string{w: goodWorkload, mp: "dirs: [/var/lib/ct/]\n"}, rule: "mount-points"},
		{name: "mount-points without images dir", files: one(goodWorkload), rule: "mount-points"},
		{name: "mount-points undeclared", files: map[string]string{w: workload(t, "mountPath: /var/lib/ct}", "mountPath: /etc/ct}\n            - {name: data, mountPath: /var/lib/ct}"), mp: "dirs: [/var/lib/ct]\n"},
			rule: "mount-points", want: `mountPath "/etc/ct"`, severity: SeverityWarning},
		{name: "object-namespace-labels labelled", files: map[string]string{w: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: d8-ct-mon\n  labels: {module: ct, heritage: deckhouse, prometheus.deckhouse.io/rules-watcher-enabled: \"true\"}\n" + promRule}, rule: "object-namespace-labels"},
		{name: "object-namespace-labels no rules", files: one("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: d8-ct-mon\n  labels: {module: ct, heritage: deckhouse}\n"), rule: "object-namespace-labels"},
		{name: "object-namespace-labels missing", files: one("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: d8-ct-mon\n  labels: {module: ct, heritage: deckhouse}\n" + promRule), rule: "object-namespace-labels", want: "rules-watcher-enabled"},
		{name: "object-priority-class set", files: one(goodWorkload), rule: "object-priority-class"},
		{name: "object-priority-class empty", files: one(workload(t, "      priorityClassName: cluster-low\n", "")), rule: "object-priority-class", want: "priorityClassName is empty"},
		{name: "object-priority-class unknown", files: one(workload(t, "cluster-low", "gold")), rule: "object-priority-class", want: `"gold" is not one of`},
		{name: "object-api-version current", files: one(goodWorkload), rule: "object-api-version"},
		{name: "object-api-version dmt kind", files: one("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: d8-ct, labels: {module: ct, heritage: deckhouse}}\nspec: {podSelector: {}}\n"), rule: "object-api-version", want: "use networking.k8s.io/v1"},
		{name: "object-api-version removed elsewhere", files: one("apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: cj, namespace: d8-ct, labels: {module: ct, heritage: deckhouse}}\nspec: {schedule: \"* * * * *\", jobTemplate: {spec: {template: {spec: {containers: []}}}}}\n"), rule: "object-api-version", want: "use batch/v1", severity: SeverityWarning},
	}
	t.Run("base workload is clean", func(t *testing.T) {
		dir := newModule(t, "ct")
		writeFile(t, dir, w, goodWorkload, 0o644)
		// The workload alone is clean for the container linter; its missing
		// VPA and PDB are the templates linter's business.
		for _, p := range lint(t, dir).Problems {
			if p.File == w && p.Linter == LinterContainer {
				t.Errorf("base workload reported: %s", p)
			}
		}
	})
	runRuleCases(t, "ct", cases)
}

func TestContainerLinterDmtExclusions(t *testing.T) {
	dir := newModule(t, "ct")
	writeFile(t, dir, "templates/w.yaml", workload(t,
		"containerPort: 8080", "containerPort: 8080\n              hostPort: 9000",
		digestImage, "nginx:1.27",
		"mountPath: /var/lib/ct}", "mountPath: /sys}"), 0o644)
	writeFile(t, dir, "images/ct/mount-points.yaml", "dirs: [/var/lib/ct]\n", 0o644)
	writeFile(t, dir, LintConfigFile, `linters-settings:
  container:
    exclude-rules:
      host-network-ports:
        - {kind: Deployment, name: w, container: main}
      image-digest:
        - {kind: Deployment, name: w}
      sys-cgroup-mount:
        - {kind: Deployment, name: w, container: other}
      mount-points:
        - /sys
`, 0o644)
	res := lint(t, dir)
	for _, p := range res.Problems {
		switch {
		case p.File == "templates/w.yaml" && (p.Rule == "host-network-ports" || p.Rule == "image-digest"), p.Rule == "dmtlint":
			t.Errorf("excluded or supported setting reported: %s", p)
		}
	}
	// The exclusion names another container; /sys is builtin for mount-points anyway.
	wantProblem(t, res, "templates/w.yaml", 0, "sys-cgroup-mount", "/sys/fs/cgroup")
	// The templates side sees /var/lib/ct declared but no longer mounted.
	wantProblem(t, res, "images/ct/mount-points.yaml", 1, "mount-points", `"/var/lib/ct" is declared`)
}
