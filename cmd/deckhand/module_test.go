package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// runModuleCLI executes the real root command in-process.
func runModuleCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestModuleInitLintRender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "greeter")
	out, err := runModuleCLI(t, "module", "init", "greeter", "--dir", dir)
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if !strings.Contains(out, filepath.Join(dir, "module.yaml")) || !strings.Contains(out, "created module greeter") {
		t.Fatalf("init output:\n%s", out)
	}

	// A new module lints clean (dmt agrees).
	out, err = runModuleCLI(t, "module", "lint", dir)
	if err != nil || out != "module "+dir+": 0 problem(s), no errors\n" {
		t.Fatalf("lint of a new module: %v\n%s", err, out)
	}
	out, err = runModuleCLI(t, "module", "lint", dir, "-o", "json")
	if err != nil {
		t.Fatalf("lint --format json: %v\n%s", err, out)
	}
	var res struct {
		Dir      string           `json:"dir"`
		Problems []map[string]any `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Problems) != 0 || res.Dir == "" {
		t.Fatalf("lint json: %v\n%s", err, out)
	}

	settings := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(settings, []byte("greeting: from a file\nreplicas: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runModuleCLI(t, "module", "render", dir, "-f", settings, "--set", "replicas=2")
	if err != nil {
		t.Fatalf("render: %v\n%s", err, out)
	}
	docs := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(out), 4096)
	kinds := []string{}
	for {
		var obj struct {
			Kind string         `json:"kind"`
			Spec map[string]any `json:"spec"`
			Data map[string]any `json:"data"`
		}
		err := docs.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("render output is not YAML: %v\n%s", err, out)
		}
		kinds = append(kinds, obj.Kind)
		switch obj.Kind {
		case "ConfigMap":
			if obj.Data["greeting"] != "from a file" {
				t.Errorf("ConfigMap data = %v", obj.Data)
			}
		case "Deployment":
			if obj.Spec["replicas"] != float64(2) {
				t.Errorf("--set did not win over -f: replicas = %v", obj.Spec["replicas"])
			}
		}
	}
	// Helm's install order; the VPA renders because offline renders treat
	// vertical-pod-autoscaler as enabled.
	if want := "Namespace,PodDisruptionBudget,ConfigMap,Deployment,VerticalPodAutoscaler"; strings.Join(kinds, ",") != want {
		t.Fatalf("rendered kinds in order %v, want %s", kinds, want)
	}

	out, err = runModuleCLI(t, "module", "render", dir, "--set", "greeting=shown", "--show-values")
	if err != nil {
		t.Fatalf("render --show-values: %v\n%s", err, out)
	}
	var vals map[string]map[string]any
	if err := yaml.Unmarshal([]byte(out), &vals); err != nil {
		t.Fatal(err)
	}
	if vals["greeter"]["greeting"] != "shown" || vals["greeter"]["logLevel"] != "Info" || vals["global"]["enabledModules"] == nil {
		t.Fatalf("--show-values:\n%s", out)
	}

	_, err = runModuleCLI(t, "module", "render", dir, "--set", "replicas=9")
	if err == nil || !strings.Contains(err.Error(), "--set replicas=9: replicas should be less than or equal to 3") || !strings.Contains(err.Error(), "config-values.yaml") {
		t.Fatalf("render with an invalid setting: %v", err)
	}

	// Helm's other values flags, applied in Helm's order whatever the command
	// line order: --set-json, --set, --set-string, --set-file.
	greeting := filepath.Join(t.TempDir(), "greeting.txt")
	if err := os.WriteFile(greeting, []byte("from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runModuleCLI(t, "module", "render", dir, "--show-values",
		"--set-file", "greeting="+greeting, "--set", "greeting=lost", "--set-json", `{"replicas": 2}`, "--set-string", "logLevel=Debug")
	if err != nil {
		t.Fatalf("render with --set-file/--set-json/--set-string: %v\n%s", err, out)
	}
	vals = nil
	if err := yaml.Unmarshal([]byte(out), &vals); err != nil {
		t.Fatal(err)
	}
	if g := vals["greeter"]; g["greeting"] != "from a file" || g["replicas"] != float64(2) || g["logLevel"] != "Debug" {
		t.Fatalf("values from --set-file/--set-json/--set-string:\n%s", out)
	}
	badFile := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badFile, []byte("greeting: hi\nreplicas: two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runModuleCLI(t, "module", "render", dir, "-f", badFile)
	if err == nil || !strings.Contains(err.Error(), "values file "+badFile+": line 2: replicas must be of type integer") {
		t.Fatalf("render with a bad value in a -f file: %v", err)
	}
}

var problemLine = regexp.MustCompile(`^[^:\s]+:\d+: [a-z-]+: .+$`)

func TestModuleLintReportsFileLineRule(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "broken")
	if _, err := runModuleCLI(t, "module", "init", "broken", "--dir", dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "module.yaml"), []byte("name: broken\nstage: Soon\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(dir, "templates", "configmap.yaml")
	data, _ := os.ReadFile(tmpl)
	data = bytes.Replace(data, []byte("\ndata:\n"), []byte("\ndata:\n  bad: {{ .Values.broken.nope.deeper }}\n"), 1)
	if err := os.WriteFile(tmpl, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runModuleCLI(t, "module", "lint", dir)
	if err == nil || !strings.Contains(err.Error(), "lint error") {
		t.Fatalf("lint of a broken module succeeded: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !problemLine.MatchString(l) {
			t.Errorf("line %q is not file:line: rule-id: message", l)
		}
	}
	for _, want := range []string{`module.yaml:2: definition-file: stage: "Soon"`, "templates/configmap.yaml:9: helm-render:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	if _, err := runModuleCLI(t, "module", "render", dir); err == nil || !strings.Contains(err.Error(), "module.yaml:2: stage") {
		t.Fatalf("render of a module with a bad module.yaml: %v", err)
	}
	if _, err := runModuleCLI(t, "module", "lint", dir, "-o", "xml"); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Fatalf("unknown format: %v", err)
	}
}

func TestModuleInitRefusesBadName(t *testing.T) {
	dir := t.TempDir()
	_, err := runModuleCLI(t, "module", "init", "Bad_Name", "--dir", filepath.Join(dir, "m"))
	if err == nil || !strings.Contains(err.Error(), `module name "Bad_Name"`) {
		t.Fatalf("got %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "m")); statErr == nil {
		t.Fatal("directory created for a refused name")
	}
}
