package helm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRenderWithoutChartFileUsesModuleName(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Chart.Name }}
  namespace: {{ .Release.Namespace }}
data:
  greeting: {{ .Values.echoServer.greeting | quote }}
  domain: {{ .Values.global.clusterDomain | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  release: {{ .Release.Name | quote }}
`,
		"templates/_helpers.tpl": `{{- define "x" }}y{{ end }}`,
		"templates/empty.yaml":   `{{- if false }}never{{ end }}`,
		"templates/NOTES.txt":    `installed {{ .Chart.Name }}`,
		"hooks/ignored.sh":       "#!/bin/sh\n",
		".helmignore":            "hooks\n",
	})
	c, err := LoadChart(dir, "echo-server")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "echo-server" || c.Metadata.Version != DefaultChartVersion {
		t.Fatalf("synthesized chart %s %s", c.Name(), c.Metadata.Version)
	}
	for _, f := range c.Files {
		if strings.HasPrefix(f.Name, "hooks/") {
			t.Fatalf(".helmignore not honoured: %s loaded", f.Name)
		}
	}
	r, err := NewRenderer("v1.31.4")
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(context.Background(), Request{
		Chart: c, ReleaseName: "echo-server", Namespace: "d8-system",
		Values: map[string]any{"echoServer": map[string]any{"greeting": "hi"}, "global": map[string]any{"clusterDomain": "cluster.local"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Manifests) != 1 || out.Manifests[0].Template != "templates/cm.yaml" {
		t.Fatalf("manifests = %+v", out.Manifests)
	}
	if out.Notes != "installed echo-server" {
		t.Fatalf("notes = %q", out.Notes)
	}
	var cm struct {
		Metadata struct{ Name, Namespace string }
		Data     map[string]string
	}
	if err := yaml.Unmarshal([]byte(out.Manifests[0].Content), &cm); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"greeting": "hi", "domain": "cluster.local", "kube": "v1.31.4", "release": "echo-server"}
	for k, v := range want {
		if cm.Data[k] != v {
			t.Errorf("data.%s = %q, want %q", k, cm.Data[k], v)
		}
	}
	if cm.Metadata.Name != "echo-server" || cm.Metadata.Namespace != "d8-system" {
		t.Errorf("metadata = %+v", cm.Metadata)
	}
	if s := out.String(); !strings.Contains(s, "# Source: templates/cm.yaml") {
		t.Errorf("String() = %q", s)
	}
}

func TestRenderUsesChartFileAndReportsTemplateErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"Chart.yaml":         "apiVersion: v2\nname: mychart\nversion: 1.2.3\n",
		"templates/bad.yaml": "kind: ConfigMap\nvalue: {{ .Values.missing.deeper }}\n",
	})
	c, err := LoadChart(dir, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "mychart" {
		t.Fatalf("chart name %s", c.Name())
	}
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Render(context.Background(), Request{Chart: c, ReleaseName: "x", Namespace: "y"})
	if err == nil || !strings.Contains(err.Error(), "templates/bad.yaml:2") {
		t.Fatalf("got %v, want an error naming templates/bad.yaml:2", err)
	}
	if _, err := NewRenderer("not-a-version"); err == nil || !strings.Contains(err.Error(), "not-a-version") {
		t.Fatalf("bad kube version: %v", err)
	}
}

func TestLoadChartErrorsNameTheDirectory(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Chart.yaml": "name: [\n"})
	if _, err := LoadChart(dir, "x"); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("got %v", err)
	}
}

func TestRenderSubchartsAndInstallOrder(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"Chart.yaml":                        "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.0.1\n",
		"charts/lib/Chart.yaml":             "apiVersion: v2\nname: lib\nversion: 0.0.1\ntype: library\n",
		"charts/lib/templates/_helpers.tpl": `{{- define "lib_labels" }}heritage: deckhouse{{ end }}`,
		"templates/a-deployment.yaml":       "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels:\n    {{- include \"lib_labels\" . | nindent 4 }}\n",
		"templates/z-namespace.yaml":        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n",
		"templates/hook.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: h\n  annotations:\n    helm.sh/hook: post-install\n",
	})
	c, err := LoadChart(dir, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer("1.30.0")
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(context.Background(), Request{Chart: c, ReleaseName: "parent", Namespace: "d8-system", Values: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Install) != 2 || !strings.Contains(out.Install[0].Content, "kind: Namespace") || !strings.Contains(out.Install[1].Content, "heritage: deckhouse") {
		t.Fatalf("install order = %+v", out.Install)
	}
	if len(out.Hooks) != 1 || out.Hooks[0].Template != "templates/hook.yaml" {
		t.Fatalf("hooks = %+v", out.Hooks)
	}
	s := out.String()
	if strings.Index(s, "kind: Namespace") > strings.Index(s, "kind: Deployment") || strings.Index(s, "name: h") < strings.Index(s, "kind: Deployment") {
		t.Fatalf("String() order:\n%s", s)
	}
}
