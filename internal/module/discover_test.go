package module

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modulesDir writes files (path relative to a new modules directory ->
// content; a trailing "*" on the path makes the file executable) and returns
// the directory.
func modulesDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(rel, "*") {
			rel, mode = strings.TrimSuffix(rel, "*"), 0o755
		}
		writeFile(t, dir, rel, content, mode)
	}
	return dir
}

func byName(t *testing.T, set *Set) map[string]*Module {
	t.Helper()
	out := map[string]*Module{}
	for _, m := range set.Modules {
		out[m.Name] = m
	}
	return out
}

func TestDiscoverNamesAndWeights(t *testing.T) {
	dir := modulesDir(t, map[string]string{
		"001-alpha/templates/a.yaml":  "",
		"beta/templates/a.yaml":       "",
		"010-gamma/module.yaml":       "name: gamma\nweight: 5\n",
		"030-whatever/module.yaml":    "name: delta\n",
		"epsilon/module.yaml":         "name: epsilon\nweight: 7\n",
		"values.yaml":                 "global: {a: 1}\n",
		"README.md":                   "not a module",
		".hidden/templates/a.yaml":    "",
		"0042-zeta/templates/a.yaml":  "",
		"echo-server/templates/a.yml": "",
	})
	set, errs := Discover([]string{dir})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := map[string]struct {
		weight uint32
		entry  string
		key    string
	}{
		"alpha":       {1, "001-alpha", "alpha"},
		"beta":        {DefaultWeight, "beta", "beta"},
		"gamma":       {5, "010-gamma", "gamma"}, // module.yaml weight over the prefix
		"delta":       {30, "030-whatever", "delta"},
		"epsilon":     {7, "epsilon", "epsilon"},
		"zeta":        {42, "0042-zeta", "zeta"},
		"echo-server": {DefaultWeight, "echo-server", "echoServer"},
	}
	got := byName(t, set)
	if len(got) != len(want) {
		t.Fatalf("modules = %v, want %d", got, len(want))
	}
	for name, w := range want {
		m := got[name]
		if m == nil {
			t.Errorf("module %s not found", name)
			continue
		}
		if m.Weight != w.weight || filepath.Base(m.Dir) != w.entry || m.ValuesKey != w.key {
			t.Errorf("%s: weight %d dir %s key %s, want %d %s %s", name, m.Weight, filepath.Base(m.Dir), m.ValuesKey, w.weight, w.entry, w.key)
		}
	}
	// Entry name order, as the directory lists them.
	if set.Modules[0].Name != "alpha" || set.Modules[1].Name != "zeta" {
		t.Errorf("order = %s, %s", set.Modules[0].Name, set.Modules[1].Name)
	}

	set, _ = Discover([]string{dir}, WithDefaultWeight(1))
	if m := byName(t, set)["beta"]; m.Weight != 1 {
		t.Errorf("WithDefaultWeight(1): beta weight %d", m.Weight)
	}
	if m := byName(t, set)["gamma"]; m.Weight != 5 {
		t.Errorf("WithDefaultWeight(1): gamma weight %d", m.Weight)
	}
}

func TestDiscoverFollowsSymlinks(t *testing.T) {
	elsewhere := modulesDir(t, map[string]string{
		"linked/templates/a.yaml": "",
		"linked/hooks/hook.sh*":   "#!/bin/sh\n",
		"a-file":                  "",
	})
	dir := modulesDir(t, map[string]string{"plain/templates/a.yaml": ""})
	for link, target := range map[string]string{
		"020-linked": filepath.Join(elsewhere, "linked"),
		"not-a-dir":  filepath.Join(elsewhere, "a-file"),
		"dangling":   filepath.Join(elsewhere, "gone"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	set, errs := Discover([]string{dir})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := byName(t, set)
	if len(got) != 2 {
		t.Fatalf("modules = %v", got)
	}
	m := got["linked"]
	if m == nil || m.Weight != 20 || m.Dir != filepath.Join(dir, "020-linked") {
		t.Fatalf("linked = %+v", m)
	}
	if m.HooksDir != filepath.Join(dir, "020-linked", "hooks") || strings.Join(m.Hooks, ",") != "hooks/hook.sh" {
		t.Errorf("hooks dir %q, hooks %v", m.HooksDir, m.Hooks)
	}
}

func TestDiscoverDuplicateNameFirstWins(t *testing.T) {
	first := modulesDir(t, map[string]string{"alpha/templates/a.yaml": ""})
	second := modulesDir(t, map[string]string{
		"005-alpha/templates/a.yaml": "",
		"renamed/module.yaml":        "name: alpha\n",
		"other/templates/a.yaml":     "",
	})
	set, errs := Discover([]string{first, second})
	if len(errs) != 2 {
		t.Fatalf("errors = %v, want two duplicates", errs)
	}
	for _, err := range errs {
		var de *DiscoverError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), filepath.Join(first, "alpha")) || !strings.HasPrefix(de.Dir, second) {
			t.Errorf("error %v does not name both paths", err)
		}
	}
	got := byName(t, set)
	if len(got) != 2 || got["alpha"].Dir != filepath.Join(first, "alpha") || got["other"] == nil {
		t.Fatalf("modules = %v", got)
	}
}

func TestDiscoverBrokenModuleDoesNotStopOthers(t *testing.T) {
	dir := modulesDir(t, map[string]string{
		"001-bad-yaml/module.yaml":                  "name: [\n",
		"002-bad-schema/openapi/config-values.yaml": "type: [\n",
		"003-bad-chart/Chart.yaml":                  "name: x\n",
		"004-bad-values/values.yaml":                "a: [\n",
		"005-good/templates/a.yaml":                 "",
		"Bad_Name/templates/a.yaml":                 "",
		"a-1b/templates/a.yaml":                     "",
		"006-bad-def-name/module.yaml":              "name: a-1b\n",
		"007-too/templates/a.yaml":                  "",
	})
	missing := filepath.Join(t.TempDir(), "missing")
	set, errs := Discover([]string{missing, dir})
	got := byName(t, set)
	if len(got) != 2 || got["good"] == nil || got["too"] == nil {
		t.Fatalf("modules = %v", got)
	}
	want := map[string]string{
		"001-bad-yaml":     "module.yaml",
		"002-bad-schema":   "config-values.yaml",
		"003-bad-chart":    "Chart.yaml: version",
		"004-bad-values":   "values.yaml",
		"Bad_Name":         "kebab-case",
		"a-1b":             "round-trip",
		"006-bad-def-name": "module.yaml:1: name",
	}
	if len(errs) != len(want)+1 {
		t.Fatalf("errors = %v", errs)
	}
	if !errors.Is(errs[0], fs.ErrNotExist) || !strings.Contains(errs[0].Error(), missing) {
		t.Errorf("missing modules dir: %v", errs[0])
	}
	for _, err := range errs[1:] {
		var de *DiscoverError
		if !errors.As(err, &de) {
			t.Errorf("%v is not a DiscoverError", err)
			continue
		}
		w, ok := want[filepath.Base(de.Dir)]
		if !ok || !strings.Contains(err.Error(), w) || !strings.Contains(err.Error(), de.Dir) {
			t.Errorf("error %q: want it to name %s and %q", err, de.Dir, w)
		}
	}
}

func TestDiscoverLoadsForRunningNotLinting(t *testing.T) {
	// What only dmt minds does not stop a module from running; Load, for
	// the developer verbs, still refuses it.
	dir := modulesDir(t, map[string]string{
		"lax/module.yaml":          "name: lax\nstage: Beta\naccessibility:\n  editions:\n    xe: {available: true}\n",
		"lax/hooks/forgot.sh":      "#!/bin/sh\n",
		"lax/templates/a.yaml":     "",
		"unnamed/module.yaml":      "weight: 3\n",
		"unnamed/templates/a.yaml": "",
	})
	set, errs := Discover([]string{dir})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := byName(t, set)
	if m := got["lax"]; m == nil || m.Definition.Stage != "Beta" || len(m.NonExecutableHooks) != 0 {
		t.Fatalf("lax = %+v", m)
	}
	if m := got["unnamed"]; m == nil || m.Weight != 3 {
		t.Fatalf("unnamed = %+v", m)
	}
	if _, err := Load(filepath.Join(dir, "lax")); err == nil || !strings.Contains(err.Error(), "stage") {
		t.Errorf("Load lax: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "unnamed")); err == nil || !strings.Contains(err.Error(), "name: is required") {
		t.Errorf("Load unnamed: %v", err)
	}
	m, err := LoadLenient(filepath.Join(dir, "lax"))
	if err != nil || strings.Join(m.NonExecutableHooks, ",") != "hooks/forgot.sh" {
		t.Errorf("LoadLenient lax: %v, %+v", err, m)
	}
}

func TestDiscoverRecordsChartHooksCRDsEnabled(t *testing.T) {
	dir := modulesDir(t, map[string]string{
		"full/templates/a.yaml":        "",
		"full/enabled*":                "#!/bin/sh\n",
		"full/hooks/a.sh*":             "#!/bin/sh\n",
		"full/crds/b.yaml":             "",
		"full/crds/a.yml":              "",
		"full/crds/doc-ru-b.yaml":      "",
		"full/crds/notes.txt":          "",
		"chart-only/Chart.yaml":        "name: chart-only\nversion: 0.1.0\n",
		"hooks-only/hooks/a.sh*":       "#!/bin/sh\n",
		"hooks-only/enabled/README.md": "a directory is not an enabled script",
	})
	set, errs := Discover([]string{dir})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := byName(t, set)
	full, chartOnly, hooksOnly := got["full"], got["chart-only"], got["hooks-only"]
	if !full.HasChart || full.HasChartFile || full.EnabledScript != filepath.Join(dir, "full", "enabled") ||
		full.HooksDir != filepath.Join(dir, "full", "hooks") || strings.Join(full.CRDs, ",") != "crds/a.yml,crds/b.yaml" {
		t.Errorf("full = %+v", full)
	}
	if !chartOnly.HasChart || !chartOnly.HasChartFile || chartOnly.HooksDir != "" || chartOnly.EnabledScript != "" || chartOnly.CRDs != nil {
		t.Errorf("chart-only = %+v", chartOnly)
	}
	if hooksOnly.HasChart || hooksOnly.HooksDir == "" || hooksOnly.EnabledScript != "" {
		t.Errorf("hooks-only = %+v", hooksOnly)
	}
}

func TestDiscoverCommonValuesPerDirectory(t *testing.T) {
	first := modulesDir(t, map[string]string{
		"values.yaml":            "global: {a: 1, b: {c: 1}}\nalpha: {x: 1}\n",
		"alpha/templates/a.yaml": "",
	})
	second := modulesDir(t, map[string]string{
		"values.yaml":           "global: {b: {c: 2}}\nbeta: {y: 2}\n",
		"beta/templates/a.yaml": "",
	})
	third := modulesDir(t, map[string]string{"gamma/templates/a.yaml": ""})
	broken := modulesDir(t, map[string]string{"values.yaml": "a: [\n", "delta/templates/a.yaml": ""})
	set, errs := Discover([]string{first, second, third, broken})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), filepath.Join(broken, CommonValuesFile)) {
		t.Fatalf("errors = %v", errs)
	}
	got := byName(t, set)
	if len(got) != 4 {
		t.Fatalf("modules = %v", got)
	}
	if set.Common[got["alpha"].Dir]["alpha"] == nil || set.Common[got["beta"].Dir]["beta"] == nil || set.Common[got["gamma"].Dir] != nil {
		t.Errorf("common = %v", set.Common)
	}
	if len(set.Dirs) != 4 || set.Dirs[1].Path != second {
		t.Errorf("dirs = %v", set.Dirs)
	}
	g := set.GlobalStatic()
	if g["a"] != float64(1) || g["b"].(map[string]any)["c"] != float64(2) {
		t.Errorf("global static = %v", g)
	}
}

func TestGlobalHooksDir(t *testing.T) {
	withHooks := modulesDir(t, map[string]string{
		"hooks/a.sh*":                "#!/bin/sh\n",
		"openapi/config-values.yaml": "type: object\nproperties:\n  x: {type: string}\n",
		"openapi/values.yaml":        "type: object\nproperties:\n  y: {type: string}\n",
	})
	flat := modulesDir(t, map[string]string{"a.sh*": "#!/bin/sh\n"})
	if got := GlobalHooksDir(withHooks); got != filepath.Join(withHooks, "hooks") {
		t.Errorf("with hooks/: %s", got)
	}
	if got := GlobalHooksDir(flat); got != flat {
		t.Errorf("flat: %s", got)
	}
	g, err := LoadGlobal(withHooks)
	if err != nil {
		t.Fatal(err)
	}
	if g.HooksDir != filepath.Join(withHooks, "hooks") || g.Schemas.Config == nil || g.Schemas.Values == nil {
		t.Errorf("global = %+v", g)
	}
	g, err = LoadGlobal(flat)
	if err != nil || g.HooksDir != flat || g.Schemas == nil || g.Schemas.Config != nil {
		t.Errorf("flat global = %+v, %v", g, err)
	}
	if _, err := LoadGlobal(filepath.Join(flat, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	bad := modulesDir(t, map[string]string{"openapi/values.yaml": "type: [\n"})
	if _, err := LoadGlobal(bad); err == nil || !strings.Contains(err.Error(), "values.yaml") {
		t.Errorf("bad schema: %v", err)
	}
}

func TestSplitDirName(t *testing.T) {
	for in, want := range map[string]struct {
		name   string
		weight uint32
		ok     bool
	}{
		"001-simple-module": {"simple-module", 1, true},
		"simple-module":     {"simple-module", 0, false},
		"42-a":              {"a", 42, true},
		"001-":              {"001-", 0, false},
		"99999999999-big":   {"big", 0, false},
	} {
		name, weight, ok := SplitDirName(in)
		if name != want.name || weight != want.weight || ok != want.ok {
			t.Errorf("%s: %s %d %v, want %+v", in, name, weight, ok, want)
		}
	}
}
