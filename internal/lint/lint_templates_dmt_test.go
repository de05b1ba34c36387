package lint

import (
	"strings"
	"testing"
)

const ingressTmpl = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: d8-tp
  labels: {module: tp, heritage: deckhouse, app: web}
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: |
      add_header Strict-Transport-Security "max-age=31536000" always;
spec:
  rules: []
`

const routeTmpl = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: d8-tp
  labels: {module: tp, heritage: deckhouse, app: web}
spec:
  parentRefs:
    - {name: public, kind: ListenerSet}
---
apiVersion: gateway.networking.x-k8s.io/v1alpha1
kind: ListenerSet
metadata:
  name: public
  namespace: d8-tp
  labels: {module: tp, heritage: deckhouse}
spec: {}
`

const registrySecret = `apiVersion: v1
kind: Secret
metadata:
  name: registry
  namespace: d8-tp
  labels: {module: tp, heritage: deckhouse}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {{ .Values.global.modulesImages.registry.dockercfg | default "e30=" }}
`

func TestTemplatesLinterDmtRules(t *testing.T) {
	const ing, mp = "templates/ingress.yaml", "images/tp/mount-points.yaml"
	noHSTS := strings.Replace(ingressTmpl, "add_header Strict-Transport-Security", "add_header X-Frame-Options", 1)
	ownSecret := strings.Replace(registrySecret, `.Values.global.modulesImages.registry.dockercfg | default "e30="`,
		`.Values.tp.registry.dockercfg | default .Values.global.modulesImages.registry.dockercfg | default "e30="`, 1)
	crdUse := func(name string) string {
		return `{{- if .Values.global.enabledModules | has "` + name + `" }}` + "\n# uses it\n{{- end }}\n"
	}
	deckhouse := func(constraint string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			def := readFile(t, dir, "module.yaml")
			if !strings.Contains(def, `deckhouse: ">= 1.72"`) {
				t.Fatalf("scaffolded module.yaml changed:\n%s", def)
			}
			writeFile(t, dir, "module.yaml", strings.Replace(def, `deckhouse: ">= 1.72"`, `deckhouse: "`+constraint+`"`, 1), 0o644)
		}
	}
	cases := []ruleCase{
		{name: "ingress-rules snippet keeps HSTS", files: map[string]string{ing: ingressTmpl + routeTmpl}, rule: "ingress-rules"},
		{name: "ingress-rules snippet drops HSTS", files: map[string]string{ing: noHSTS + routeTmpl}, rule: "ingress-rules", want: "Strict-Transport-Security"},
		{name: "httproute-rules route on a ListenerSet", files: map[string]string{ing: ingressTmpl + routeTmpl}, rule: "httproute-rules"},
		{name: "httproute-rules no route", files: map[string]string{ing: ingressTmpl}, rule: "httproute-rules", want: `no HTTPRoute with the label app="web"`},
		{name: "httproute-rules route without ListenerSet", files: map[string]string{ing: ingressTmpl + strings.Replace(routeTmpl, "{name: public,", "{name: elsewhere,", 1)},
			rule: "httproute-rules", want: "none of its spec.parentRefs"},
		{name: "mount-points declared and mounted", files: map[string]string{"templates/w.yaml": strings.ReplaceAll(goodWorkload, "ct", "tp"), mp: "dirs: [/var/lib/tp]\n"}, rule: "mount-points"},
		{name: "mount-points declared, unused", files: map[string]string{"templates/w.yaml": strings.ReplaceAll(goodWorkload, "ct", "tp"), mp: "dirs: [/var/lib/tp]\nfiles: [/etc/tp.conf, /proc]\n"},
			rule: "mount-points", want: `"/etc/tp.conf" is declared`, severity: SeverityWarning},
		{name: "mount-points file does not parse", files: map[string]string{mp: "dirs: {a: [\n"}, rule: "mount-points", want: "does not parse"},
		{name: "registry own credentials", files: map[string]string{"templates/registry-secret.yaml": ownSecret}, rule: "registry"},
		{name: "registry global only", files: map[string]string{"templates/registry-secret.yaml": registrySecret}, rule: "registry", want: "not .Values.tp.registry.dockercfg"},
		{name: "registry in the deckhouse repository", files: map[string]string{"templates/registry-secret.yaml": registrySecret,
			".git/config": "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:deckhouse/deckhouse.git\n"}, rule: "registry"},
		{name: "werf image names", files: map[string]string{"images/tp-agent/werf.inc.yaml": "---\nimage: {{ .ModuleNamePrefix }}{{ .ImageName | lower }}\nfrom: alpine\n"}, rule: "werf"},
		{name: "werf underscore", files: map[string]string{"images/tp_agent/werf.inc.yaml": "---\nimage: {{ .ModuleNamePrefix }}{{ .ImageName | lower }}\nfrom: alpine\n---\nimage: {{ .ImageName }}-src\n"},
			rule: "werf", want: `"tp_agent" (document 1)`},
		{name: "werf file needing the build context is skipped", files: map[string]string{"images/tp_agent/werf.inc.yaml": "image: {{ .ImageName }}\nfrom: {{ include \"base-image-of-the-whole-repo\" . }}\n"}, rule: "werf"},
		{name: "crd-enabled-modules parent module", files: map[string]string{"templates/x.yaml": crdUse("operator-prometheus")}, rule: "crd-enabled-modules"},
		{name: "crd-enabled-modules -crd module", files: map[string]string{"templates/x.yaml": crdUse("operator-prometheus-crd")}, rule: "crd-enabled-modules", want: `test for "operator-prometheus"`},
		{name: "crd-enabled-modules for older DKP", files: map[string]string{"templates/x.yaml": crdUse("operator-prometheus-crd")}, edit: deckhouse(">= 1.60"), rule: "crd-enabled-modules"},
		{name: "crd-enabled-modules for DKP 1.65+", files: map[string]string{"templates/x.yaml": crdUse("operator-prometheus-crd")}, edit: deckhouse(">= 1.65 < 1.80"), rule: "crd-enabled-modules", want: "-crd"},
		// dmt has switched enabled-modules off for every file.
		{name: "enabled-modules is never reported", files: map[string]string{"templates/x.yaml": crdUse("cert-manager")}, rule: "enabled-modules"},
	}
	runRuleCases(t, "tp", cases)
}

func TestTemplatesLinterDmtExclusions(t *testing.T) {
	dir := newModule(t, "tp")
	noHSTS := strings.Replace(ingressTmpl, "add_header Strict-Transport-Security", "add_header X-Frame-Options", 1)
	writeFile(t, dir, "templates/ingress.yaml", noHSTS, 0o644)
	writeFile(t, dir, "templates/w.yaml", strings.ReplaceAll(goodWorkload, "ct", "tp"), 0o644)
	writeFile(t, dir, "images/tp/mount-points.yaml", "dirs: [/var/lib/tp, /host, /etc/tp]\n", 0o644)
	// dmt reads these rules' settings under "ingress" and "httproute", not their ids.
	writeFile(t, dir, LintConfigFile, `linters-settings:
  templates:
    exclude-rules:
      httproute:
        - {kind: Ingress, name: web}
      mount-points:
        - /host
    rules:
      ingress: {impact: warn}
`, 0o644)
	res := lint(t, dir)
	sawIngress := false
	for _, p := range res.Problems {
		switch {
		case p.Rule == "httproute-rules", p.Rule == "dmtlint":
			t.Errorf("excluded or supported setting reported: %s", p)
		case p.Rule == "mount-points" && strings.Contains(p.Message, "/host"):
			t.Errorf("excluded mount point reported: %s", p)
		case p.Rule == "ingress-rules":
			sawIngress = true
			if p.Severity != SeverityWarning {
				t.Errorf("rules.ingress.impact: warn not applied: %s", p)
			}
		}
	}
	if !sawIngress {
		t.Errorf("ingress-rules not reported:\n%s", problemsText(res.Problems))
	}
	wantProblem(t, res, "images/tp/mount-points.yaml", 1, "mount-points", `"/etc/tp" is declared`)
}
