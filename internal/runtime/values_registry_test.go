package runtime

import (
	"testing"

	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/testenv"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// A module from a ModuleSource keeps its injected <key>.registry section
// after a hook's values patch is accepted (the trial values used to be built
// without it, so VALUES_PATH lost it until the next Helm step).
func TestValuesPatchKeepsRegistry(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{
		"module.yaml":          "name: reg-mod\n",
		"openapi/values.yaml":  "type: object\nproperties:\n  internal:\n    type: object\n    default: {}\n    properties:\n      seen:\n        type: integer\n",
		"templates/empty.yaml": "",
		"Chart.yaml":           "apiVersion: v2\nname: reg-mod\nversion: 0.1.0\n",
	})
	m, err := module.LoadRuntime(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := &values.Registry{Base: "registry.example.com/modules", DockerCfg: "e30=", Scheme: "https"}
	mv, err := newModuleValues(m, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	s := newModuleState(m, mv)
	s.inConverge = true // the commit is absorbed by the converge in progress: no queue needed
	io := &moduleIO{s: s}
	commit, err := io.Check(nil, map[string][]byte{
		values.EnvValuesJSONPatchPath: []byte(`{"op":"add","path":"/regMod/internal/seen","value":1}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	commit()
	got := mv.result.Module
	if internal, _ := got["internal"].(map[string]any); internal["seen"] == nil {
		t.Fatalf("patch not applied: %v", got)
	}
	if r, _ := got["registry"].(map[string]any); r == nil || r["base"] != reg.Base {
		t.Fatalf("registry section lost after the patch: %v", got)
	}
}
