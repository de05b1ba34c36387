package module

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadRejectsBadDefinitionNamingFileLineAndField(t *testing.T) {
	for name, tc := range map[string]struct {
		yaml string
		want []string
	}{
		"missing name":    {"stage: Preview\n", []string{"module.yaml", "name: is required"}},
		"bad name":        {"name: Hello_World\n", []string{"module.yaml:1", "name:", "kebab-case"}},
		"no round trip":   {"stage: Preview\nname: a-1b\n", []string{"module.yaml:2", "name:", "round-trip"}},
		"long name":       {"name: " + strings.Repeat("a", 65) + "\n", []string{"module.yaml:1", "name:", "64"}},
		"bad stage":       {"name: ok\nstage: Beta\n", []string{"module.yaml:2", "stage:", `"Beta"`}},
		"weight type":     {"name: ok\nweight: heavy\n", []string{"module.yaml", "line 2", "uint32"}},
		"bad constraint":  {"name: ok\nrequirements:\n  deckhouse: \">= one\"\n", []string{"module.yaml:3", "requirements.deckhouse"}},
		"bad module req":  {"name: ok\nrequirements:\n  modules:\n    Cert_Manager: \">= 1.0\"\n", []string{"requirements.modules.Cert_Manager"}},
		"bad edition":     {"name: ok\naccessibility:\n  editions:\n    xe: {available: true}\n", []string{"module.yaml:4", "accessibility.editions.xe", "unknown edition"}},
		"bad bundle":      {"name: ok\naccessibility:\n  editions:\n    ce: {available: true, enabledInBundles: [Big]}\n", []string{"enabledInBundles", `"Big"`}},
		"update order":    {"name: ok\nupdate:\n  versions:\n    - {from: \"1.5\", to: \"1.2\"}\n", []string{"update.versions", "greater than"}},
		"critical weight": {"name: ok\ncritical: true\nweight: 0\n", []string{"module.yaml:3", "weight:", "critical"}},
		"not yaml":        {"name: [\n", []string{"module.yaml", "parsing YAML"}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := newModule(t, "ok")
			writeFile(t, dir, DefinitionFile, tc.yaml, 0o644)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load accepted a bad module.yaml")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadWithoutDefinitionUsesDirectoryName(t *testing.T) {
	dir := t.TempDir() + "/042-echo-server"
	writeFile(t, dir, "templates/a.yaml", "", 0o644)
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "echo-server" || m.Weight != 42 || m.ValuesKey != "echoServer" || m.HasChartFile {
		t.Fatalf("module = %+v", m)
	}
	bad := t.TempDir() + "/a-1b"
	writeFile(t, bad, "templates/a.yaml", "", 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "round-trip") {
		t.Fatalf("a-1b: got %v", err)
	}
}

func TestLoadNamesBadSchemaAndChartFiles(t *testing.T) {
	dir := newModule(t, "schema-bad")
	writeFile(t, dir, "openapi/config-values.yaml", "type: object\nproperties:\n  a: {type: strin}\n", 0o644)
	_, err := Load(dir)
	if err == nil || !strings.HasPrefix(err.Error(), "openapi/config-values.yaml") {
		t.Fatalf("got %v, want an error starting with openapi/config-values.yaml", err)
	}

	dir = newModule(t, "chart-bad")
	writeFile(t, dir, "Chart.yaml", "apiVersion: v2\nname: chart-bad\n", 0o644)
	_, err = Load(dir)
	var fileErr *FileError
	if !errors.As(err, &fileErr) || fileErr.File != "Chart.yaml" || fileErr.Field != "version" {
		t.Fatalf("got %v, want Chart.yaml version error", err)
	}
}

func TestLoadListsHooksAndCRDs(t *testing.T) {
	dir := newModule(t, "lister")
	writeFile(t, dir, "hooks/lib/common.sh", "#!/bin/bash\n", 0o755)
	writeFile(t, dir, "hooks/sub/second.py", "#!/usr/bin/env python3\n", 0o755)
	writeFile(t, dir, "hooks/notes.md", "# notes\n", 0o644)
	writeFile(t, dir, "hooks/forgot.sh", "#!/bin/bash\n", 0o644)
	writeFile(t, dir, "crds/thing.yaml", "kind: CustomResourceDefinition\n", 0o644)
	writeFile(t, dir, "crds/doc-ru-thing.yaml", "x: y\n", 0o644)
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Hooks, ",") != "hooks/banner.sh,hooks/sub/second.py" {
		t.Errorf("hooks = %v", m.Hooks)
	}
	if strings.Join(m.NonExecutableHooks, ",") != "hooks/forgot.sh" {
		t.Errorf("non-executable = %v", m.NonExecutableHooks)
	}
	if strings.Join(m.CRDs, ",") != "crds/thing.yaml" {
		t.Errorf("crds = %v", m.CRDs)
	}
}
