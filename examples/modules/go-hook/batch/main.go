// Command batch is the go-hook module's hooks: one binary holding two hooks
// that speaks the module-sdk batch protocol with only the standard library.
//
//	batch hook list      prints "Found 2 items:" and the hooks
//	batch hook config    prints the hooks' bindings as v1 JSON
//	batch hook run <N>   runs hook N with the env-var file protocol
//
// Build it into the module's hooks dir (see ../README.md):
//
//	go build -o hooks/batch ./batch
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
)

// valuesKey is the module's values key: "go-hook" in camelCase.
const valuesKey = "goHook"

// hook is one hook of the bundle: its config entry and what it does.
type hook struct {
	config map[string]any
	run    func(in input) (output, error)
}

var hooks = []hook{
	{
		config: map[string]any{
			"configVersion": "v1",
			"metadata":      map[string]any{"name": "startup", "path": "go-hook/batch"},
			"onStartup":     1,
			"beforeHelm":    10,
		},
		run: greet,
	},
	{
		config: map[string]any{
			"configVersion": "v1",
			"metadata":      map[string]any{"name": "configmaps", "path": "go-hook/batch"},
			"kubernetes": []any{map[string]any{
				"name":       "configmaps",
				"apiVersion": "v1",
				"kind":       "ConfigMap",
				"namespace": map[string]any{
					"nameSelector": map[string]any{"matchNames": []string{"d8-go-hook"}},
				},
				"jqFilter":                "{name: .metadata.name}",
				"keepFullObjectsInMemory": false,
				"executeHookOnEvent":      true,
			}},
		},
		run: listConfigMaps,
	},
}

// input is what a run reads: BINDING_CONTEXT_PATH and VALUES_PATH.
type input struct {
	contexts []bindingContext
	values   map[string]any
}

type bindingContext struct {
	Binding      string                    `json:"binding"`
	Type         string                    `json:"type"`
	Snapshots    map[string][]snapshotItem `json:"snapshots"`
	Objects      []snapshotItem            `json:"objects"`
	FilterResult json.RawMessage           `json:"filterResult"`
}

type snapshotItem struct {
	FilterResult json.RawMessage `json:"filterResult"`
}

// output is what a run writes: VALUES_JSON_PATCH_PATH and METRICS_PATH.
type output struct {
	patch   []patchOp
	metrics []metricOp
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

type metricOp struct {
	Name   string            `json:"name"`
	Action string            `json:"action"`
	Value  float64           `json:"value"`
	Labels map[string]string `json:"labels,omitempty"`
}

// greet sets internal.greeting from the bindings it was run for.
func greet(in input) (output, error) {
	var bindings []string
	for _, c := range in.contexts {
		bindings = append(bindings, c.Binding)
	}
	out := output{metrics: []metricOp{{
		Name: "go_hook_greetings_total", Action: "add", Value: 1,
		Labels: map[string]string{"hook": "startup"},
	}}}
	out.patch = append(ensureInternal(in.values), patchOp{
		Op: "add", Path: "/" + valuesKey + "/internal/greeting",
		Value: fmt.Sprintf("hello from go-hook (%v)", bindings),
	})
	return out, nil
}

// listConfigMaps sets internal.configMaps to the names in the snapshot.
func listConfigMaps(in input) (output, error) {
	if len(in.contexts) == 0 {
		return output{}, errors.New("no binding context")
	}
	// Snapshots are the current state: the last context has the newest.
	last := in.contexts[len(in.contexts)-1]
	items, ok := last.Snapshots["configmaps"]
	if !ok {
		items = last.Objects
	}
	names := []string{}
	for _, it := range items {
		var fr struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(it.FilterResult, &fr); err != nil {
			return output{}, fmt.Errorf("reading filterResult %s: %w", it.FilterResult, err)
		}
		if fr.Name != "" {
			names = append(names, fr.Name)
		}
	}
	sort.Strings(names)
	out := output{metrics: []metricOp{{
		Name: "go_hook_configmaps", Action: "set", Value: float64(len(names)),
	}}}
	out.patch = append(ensureInternal(in.values), patchOp{
		Op: "add", Path: "/" + valuesKey + "/internal/configMaps", Value: names,
	})
	return out, nil
}

// ensureInternal adds the parents of internal.* when the values lack them
// (the OpenAPI default {} normally provides internal).
func ensureInternal(values map[string]any) []patchOp {
	module, ok := values[valuesKey].(map[string]any)
	if !ok {
		return []patchOp{
			{Op: "add", Path: "/" + valuesKey, Value: map[string]any{}},
			{Op: "add", Path: "/" + valuesKey + "/internal", Value: map[string]any{}},
		}
	}
	if _, ok := module["internal"].(map[string]any); !ok {
		return []patchOp{{Op: "add", Path: "/" + valuesKey + "/internal", Value: map[string]any{}}}
	}
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) < 2 || (args[0] != "hook" && args[0] != "hooks") {
		return errors.New("usage: batch hook list|config|run <index>")
	}
	switch args[1] {
	case "list":
		fmt.Fprintf(stdout, "Found %d items:\n", len(hooks))
		for i, h := range hooks {
			fmt.Fprintf(stdout, "%d - %s\n", i, h.config["metadata"].(map[string]any)["name"])
		}
		return nil
	case "config":
		configs := make([]map[string]any, 0, len(hooks))
		for _, h := range hooks {
			configs = append(configs, h.config)
		}
		return json.NewEncoder(stdout).Encode(map[string]any{"version": "v1", "hooks": configs})
	case "run":
		if len(args) != 3 {
			return errors.New("usage: batch hook run <index>")
		}
		i, err := strconv.Atoi(args[2])
		if err != nil || i < 0 || i >= len(hooks) {
			return fmt.Errorf("hook index %q does not exist", args[2])
		}
		return runHook(hooks[i])
	}
	return fmt.Errorf("unknown command %q", args[1])
}

func runHook(h hook) error {
	var in input
	if err := readJSON("BINDING_CONTEXT_PATH", &in.contexts); err != nil {
		return err
	}
	if err := readJSON("VALUES_PATH", &in.values); err != nil {
		return err
	}
	out, err := h.run(in)
	if err != nil {
		return err
	}
	if len(out.patch) > 0 {
		if err := writeJSON("VALUES_JSON_PATCH_PATH", out.patch); err != nil {
			return err
		}
	}
	for _, m := range out.metrics {
		if err := writeJSON("METRICS_PATH", m); err != nil {
			return err
		}
	}
	return nil
}

// readJSON decodes the file named by env var; an unset var or empty file
// leaves v alone.
func readJSON(env string, v any) error {
	path := os.Getenv(env)
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	return nil
}

// writeJSON appends v as one JSON line to the file named by env var.
func writeJSON(env string, v any) error {
	path := os.Getenv(env)
	if path == "" {
		return fmt.Errorf("%s is not set", env)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	err = json.NewEncoder(f).Encode(v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	return nil
}
