package lint

import (
	"strings"
	"testing"
)

func workloadYAML(kind, name, labels string, containers ...string) string {
	var cts strings.Builder
	for _, c := range containers {
		cts.WriteString("        - {name: " + c + ", image: x}\n")
	}
	return "apiVersion: apps/v1\nkind: " + kind + "\nmetadata: {name: " + name + ", namespace: d8-m}\nspec:\n" +
		"  selector: {matchLabels: " + labels + "}\n  template:\n    metadata: {labels: " + labels + "}\n    spec:\n      containers:\n" + cts.String()
}

func vpa(target, mode, policies string) string {
	return "apiVersion: autoscaling.k8s.io/v1\nkind: VerticalPodAutoscaler\nmetadata: {name: " + target + ", namespace: d8-m}\nspec:\n" +
		"  targetRef: {apiVersion: apps/v1, kind: DaemonSet, name: " + target + "}\n  updatePolicy: {updateMode: \"" + mode + "\"}\n" + policies
}

const dsPolicy = "  resourcePolicy:\n    containerPolicies:\n      - {containerName: main, minAllowed: {cpu: 10m, memory: 10Mi}, maxAllowed: {cpu: 1, memory: 1Gi}}\n"

func pdb(name, labels, annotations string) string {
	return "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: " + name + ", namespace: d8-m" + annotations + "}\n" +
		"spec: {maxUnavailable: 1, selector: {matchLabels: " + labels + "}}\n"
}

func webhook(annotations string) string {
	return "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: wh" + annotations + "}\nwebhooks: []\n"
}

func promRule(groups string) string {
	return "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r, namespace: d8-m}\nspec:\n" + groups
}

const goodGroups = `  groups:
    - name: m.rules
      rules:
        - alert: MDown
          expr: up{job="m"} == 0
          for: 5m
          labels: {severity_level: "4"}
          annotations: {summary: '{{ "{{ $labels.instance }}" }} is down'}
        - record: m:up:sum
          expr: sum(up{job="m"})
`

const goodDashboard = `{"panels": [
  {"type": "row", "panels": [{"type": "timeseries", "title": "ok", "targets": [{"expr": "rate(x[$__rate_interval])", "datasource": {"type": "prometheus", "uid": "$ds_prometheus"}}]}]}
 ],
 "templating": {"list": [{"type": "datasource", "query": "prometheus", "name": "ds_prometheus"}]}}`

const badDashboard = `{"rows": [{"panels": [
  {"type": "graph", "title": "old", "alert": {"name": "legacy"},
   "targets": [{"expr": "rate(x[$interval_rv])", "datasource": {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}}, {"expr": "y", "datasource": "Prometheus"}]}
 ]}],
 "templating": {"list": [{"type": "query", "name": "job", "datasource": {"type": "prometheus", "uid": "abc"}}]}}`

const monitoringYAML = `{{- include "helm_lib_prometheus_rules" (list . "d8-m") }}
{{- include  "helm_lib_grafana_dashboard_definitions" . }}
`

// libStub stands in for lib-helm's helpers, which the test module does not vendor.
const libStub = `{{- define "helm_lib_prometheus_rules" }}{{- end }}
{{- define "helm_lib_grafana_dashboard_definitions" }}{{- end }}
`

func TestTemplatesObjectRules(t *testing.T) {
	const f = "templates/extra.yaml"
	const labels = "{app: ds}"
	runObjectCases(t, LinterTemplates, []objectCase{
		// The scaffold's Deployment has its PDB and its VPA (enabled modules are stubbed for lint).
		{name: "vpa/ok", rule: "vpa", file: "templates/deployment.yaml"},
		{name: "vpa/off-skips-containers", rule: "vpa", file: f,
			files: map[string]string{f: doc(workloadYAML("DaemonSet", "ds", labels, "main", "sidecar"), vpa("ds", "Off", ""))}},
		{name: "vpa/missing", rule: "vpa", file: f, want: []string{"no VerticalPodAutoscaler targets this DaemonSet"},
			files: map[string]string{f: workloadYAML("DaemonSet", "ds", labels, "main")}},
		{name: "vpa/policies", rule: "vpa", file: f,
			want: []string{"updateMode Auto is deprecated", `container "main": maxAllowed.memory must be set`, `container "main": minAllowed.cpu is above maxAllowed.cpu`,
				"no resourcePolicy.containerPolicies entry for this container", `resourcePolicy entry for container "gone"`},
			files: map[string]string{f: doc(workloadYAML("DaemonSet", "ds", labels, "main", "sidecar"), vpa("ds", "Auto",
				"  resourcePolicy:\n    containerPolicies:\n      - {containerName: main, minAllowed: {cpu: 2, memory: 10Mi}, maxAllowed: {cpu: 1}}\n"+
					"      - {containerName: gone, minAllowed: {cpu: 1m, memory: 1Mi}, maxAllowed: {cpu: 1, memory: 1Gi}}\n"))}},
		{name: "vpa/no-policies", rule: "vpa", file: f, want: []string{"no spec.resourcePolicy.containerPolicies"},
			files: map[string]string{f: doc(workloadYAML("DaemonSet", "ds", labels, "main"), vpa("ds", "Recreate", ""))}},

		{name: "pdb/ok", rule: "pdb", file: "templates/deployment.yaml"},
		{name: "pdb/daemonset-needs-none", rule: "pdb", file: f,
			files: map[string]string{f: doc(workloadYAML("DaemonSet", "ds", labels, "main"), vpa("ds", "Recreate", dsPolicy))}},
		{name: "pdb/missing", rule: "pdb", file: f, want: []string{"no PodDisruptionBudget in d8-m selects this StatefulSet's pods (labels app=st)"},
			files: map[string]string{f: doc(workloadYAML("StatefulSet", "st", "{app: st}", "main"), pdb("other", "{app: other}", ""))}},
		{name: "pdb/hook", rule: "pdb", file: f, want: []string{"must not carry helm.sh/hook annotations"},
			files: map[string]string{f: pdb("hooked", "{app: x}", ", annotations: {helm.sh/hook: post-install}")}},

		{name: "webhook/weight", rule: "webhook-configuration-annotations", file: f,
			files: map[string]string{f: webhook(`, annotations: {werf.io/weight: "10"}`)}},
		{name: "webhook/dependency", rule: "webhook-configuration-annotations", file: f,
			files: map[string]string{f: webhook(`, annotations: {werf.io/deploy-dependency-server: "state=ready,kind=Deployment,name=m"}`)}},
		{name: "webhook/none", rule: "webhook-configuration-annotations", file: f, want: []string{"needs a werf.io/weight annotation"},
			files: map[string]string{f: webhook("")}},

		{name: "kube-rbac-proxy/ca", rule: "kube-rbac-proxy", file: f, files: map[string]string{f: doc(
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: d8-x, namespace: d8-x}\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-rbac-proxy-ca.crt, namespace: d8-x}\n")}},
		// dmt reads a Namespace without metadata.namespace as outside every d8- namespace.
		{name: "kube-rbac-proxy/skipped-as-dmt", rule: "kube-rbac-proxy", file: "templates/namespace.yaml"},
		{name: "kube-rbac-proxy/missing", rule: "kube-rbac-proxy", file: f, want: []string{"namespace d8-x has no kube-rbac-proxy-ca.crt ConfigMap"},
			files: map[string]string{f: "apiVersion: v1\nkind: Namespace\nmetadata: {name: d8-x, namespace: d8-x}\n"}},

		{name: "prometheus-rules/ok", rule: "prometheus-rules", file: f,
			files: map[string]string{f: promRule(goodGroups)}},
		{name: "prometheus-rules/promql", rule: "prometheus-rules", file: f, want: []string{`group "g", rule 1, "A": expr:`},
			files: map[string]string{f: promRule("  groups:\n    - name: g\n      rules:\n        - {alert: A, expr: 'rate(up[5m]'}\n")}},
		{name: "prometheus-rules/structure", rule: "prometheus-rules", file: f,
			want: []string{`group "g", rule 1, "A": only one of record and alert`, `group "g", rule 2, "": one of record or alert must be set`,
				`group "g", rule 3, "B": for 5 minutes is not a Prometheus duration`, `group "g", rule 3, "B": annotation "s"`,
				`group "g", rule 4, "r{a}": a recording rule has no annotations`, "braces in the recording rule name",
				`group "g", rule 2, "": expr must be set`, `groups[0]: unknown field "partial_response_strategy"`,
				`group name "g" is repeated`, "duplicate rule C{}"},
			files: map[string]string{f: promRule(`  groups:
    - name: g
      partial_response_strategy: warn
      rules:
        - {alert: A, record: a, expr: up}
        - {labels: {x: y}}
        - {alert: B, expr: up, for: 5 minutes, annotations: {s: '{{ "{{ .Labels.x" }}'}}
        - {record: "r{a}", expr: up, annotations: {a: b}}
    - name: g
      rules:
        - {alert: C, expr: up}
        - {alert: C, expr: up == 1}
`)}},
		{name: "prometheus-rules/no-groups", rule: "prometheus-rules", file: f, want: []string{"no rule groups found"},
			files: map[string]string{f: promRule("  groups: []\n")}},
		{name: "prometheus-rules/monitoring-include", rule: "prometheus-rules", file: monitoringTemplate, want: []string{"monitoring/prometheus-rules is not rendered"},
			files: map[string]string{"monitoring/prometheus-rules/m.yaml": "[]\n", monitoringTemplate: "# nothing\n"}},
		{name: "prometheus-rules/monitoring-missing", rule: "prometheus-rules", file: monitoringTemplate, want: []string{"needs templates/monitoring.yaml"},
			files: map[string]string{"monitoring/prometheus-rules/m.yaml": "[]\n"}},

		{name: "grafana-dashboards/ok", rule: "grafana-dashboards", file: "monitoring/grafana-dashboards/main/ok.json",
			files: map[string]string{"monitoring/grafana-dashboards/main/ok.json": goodDashboard, monitoringTemplate: monitoringYAML, "templates/_lib.tpl": libStub}},
		{name: "grafana-dashboards/ok-include", rule: "grafana-dashboards", file: monitoringTemplate,
			files: map[string]string{"monitoring/grafana-dashboards/main/ok.json": goodDashboard, monitoringTemplate: monitoringYAML, "templates/_lib.tpl": libStub}},
		{name: "grafana-dashboards/bad", rule: "grafana-dashboards", file: "monitoring/grafana-dashboards/bad.json",
			want: []string{`panel "old" uses deprecated type "graph": use "timeseries"`, `deprecated interval "interval_rv"`,
				`legacy Grafana alert "legacy"`, `hard-coded datasource UID "P1809F7CD0C75ACF3"`, `the Prometheus datasource must be one of`,
				"uses the legacy datasource format", `hard-coded datasource UID "Prometheus"`, `dashboard variable "job" must use`,
				"dashboard has no Prometheus datasource variable"},
			files: map[string]string{"monitoring/grafana-dashboards/bad.json": badDashboard, monitoringTemplate: monitoringYAML, "templates/_lib.tpl": libStub}},
		{name: "grafana-dashboards/not-json", rule: "grafana-dashboards", file: "monitoring/grafana-dashboards/x.json", want: []string{"not valid JSON"},
			files: map[string]string{"monitoring/grafana-dashboards/x.json": "[1]", monitoringTemplate: monitoringYAML, "templates/_lib.tpl": libStub}},
		{name: "grafana-dashboards/monitoring-include", rule: "grafana-dashboards", file: monitoringTemplate, want: []string{"monitoring/grafana-dashboards is not rendered"},
			files: map[string]string{"monitoring/grafana-dashboards/ok.json": goodDashboard, monitoringTemplate: "# nothing\n"}},
	})
}

func TestTemplatesObjectRulesExclusions(t *testing.T) {
	dir := newModule(t, "m")
	writeFile(t, dir, "templates/extra.yaml", doc(
		workloadYAML("DaemonSet", "ds", "{app: ds}", "main"),
		workloadYAML("StatefulSet", "st", "{app: st}", "main"),
		vpa("st-vpa", "Off", "")+"\n", // targets DaemonSet st-vpa, which does not exist
		webhook(""),
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: d8-x, namespace: d8-x}\n",
		promRule("  groups: []\n")), 0o644)
	writeFile(t, dir, "monitoring/grafana-dashboards/bad.json", badDashboard, 0o644)
	res := lint(t, dir)
	for _, rule := range []string{"vpa", "pdb", "webhook-configuration-annotations", "kube-rbac-proxy", "prometheus-rules", "grafana-dashboards"} {
		if !hasRule(res, rule) {
			t.Errorf("no %s problem before the exclusions:\n%s", rule, problemsText(res.Problems))
		}
	}
	writeFile(t, dir, LintConfigFile, `linters-settings:
  templates:
    exclude-rules:
      vpa:
        - {kind: DaemonSet, name: ds}
        - {kind: StatefulSet, name: st}
      pdb:
        - {kind: StatefulSet, name: st}
      webhook-configuration-annotations:
        - {kind: ValidatingWebhookConfiguration, name: wh}
      kube-rbac-proxy: [d8-x]
    prometheus-rules: {disable: true}
    grafana-dashboards: {disable: true}
`, 0o644)
	res = lint(t, dir)
	for _, p := range res.Problems {
		switch p.Rule {
		case "vpa", "pdb", "webhook-configuration-annotations", "kube-rbac-proxy", "prometheus-rules", "grafana-dashboards", "dmtlint":
			t.Errorf("excluded or unsupported: %s", p)
		}
	}
}

func hasRule(res *LintResult, rule string) bool {
	for _, p := range res.Problems {
		if p.Rule == rule {
			return true
		}
	}
	return false
}
