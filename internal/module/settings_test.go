package module

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func renderSettings(t *testing.T, r *Render) (map[string]any, error) {
	t.Helper()
	m, err := Load(sharedSettingsModule(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), m)
	if err != nil {
		return nil, err
	}
	return res.Values.Module, nil
}

// sharedSettingsModule is a scaffolded module: greeting (string), replicas
// (integer 1..3), logLevel (enum) in openapi/config-values.yaml.
func sharedSettingsModule(t *testing.T) string {
	t.Helper()
	return newModule(t, "settings-demo")
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSettingsFlagsApplyInHelmOrder(t *testing.T) {
	file := writeTemp(t, "values.yaml", "greeting: from-file\n")
	content := writeTemp(t, "greeting.txt", "from --set-file")
	r := &Render{SettingsFiles: []string{file}}
	steps := []struct {
		add  func()
		want string
	}{
		{func() {}, "from-file"},
		{func() { r.SetJSON = []string{`greeting="from --set-json"`} }, "from --set-json"},
		{func() { r.Set = []string{"greeting=from-set"} }, "from-set"},
		{func() { r.SetString = []string{"greeting=from-set-string"} }, "from-set-string"},
		{func() { r.SetFile = []string{"greeting=" + content} }, "from --set-file"},
		{func() { r.SetLiteral = []string{"greeting=a,b=c"} }, "a,b=c"},
	}
	for i, s := range steps {
		s.add()
		vals, err := renderSettings(t, r)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if vals["greeting"] != s.want {
			t.Fatalf("step %d: greeting = %v, want %q", i, vals["greeting"], s.want)
		}
	}
	// --set-json with a whole object, and --set-string keeping "2" a string where
	// --set makes it a number.
	vals, err := renderSettings(t, &Render{SetJSON: []string{`{"replicas": 2, "logLevel": "Debug"}`}})
	if err != nil || vals["replicas"] != float64(2) || vals["logLevel"] != "Debug" {
		t.Fatalf("--set-json object: %v, %v", vals, err)
	}
}

func TestSettingsErrorsNameTheirSource(t *testing.T) {
	good := writeTemp(t, "good.yaml", "replicas: 2\n")
	bad := writeTemp(t, "bad.yaml", "# comment\ngreeting: hi\nreplicas: many\n")
	cases := map[string]struct {
		r    *Render
		want string
	}{
		"--set-string type": {&Render{SetString: []string{"replicas=2"}},
			`--set-string replicas=2: replicas must be of type integer: "string"`},
		"file type with line": {&Render{SettingsFiles: []string{bad}},
			"values file " + bad + `: line 3: replicas must be of type integer: "string"`},
		"later flag wins the blame": {&Render{SettingsFiles: []string{good}, Set: []string{"replicas=5"}},
			"--set replicas=5: replicas should be less than or equal to 3"},
		"forbidden field": {&Render{Set: []string{"colour=red"}},
			"--set colour=red: colour is a forbidden property"},
		"set-json parse": {&Render{SetJSON: []string{"replicas={oops"}},
			"--set-json replicas={oops: "},
		"set parse": {&Render{Set: []string{"replicas"}},
			"--set replicas: key \"replicas\" has no value"},
		"set-file missing": {&Render{SetFile: []string{"greeting=/nonexistent/file"}},
			"--set-file greeting=/nonexistent/file: open /nonexistent/file"},
		"yaml syntax": {&Render{SettingsFiles: []string{writeTemp(t, "syntax.yaml", "greeting: hi\nreplicas: [1\n")}},
			": line 2: did not find expected ',' or ']'"},
		"yaml list": {&Render{SettingsFiles: []string{writeTemp(t, "list.yaml", "- a\n")}},
			": line 1: the file must hold a map of settings (key: value), not a list"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := renderSettings(t, tc.r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n got %v\nwant it to contain %s", err, tc.want)
			}
		})
	}
}
