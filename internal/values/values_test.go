package values

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestModuleKey(t *testing.T) {
	for name, want := range map[string]string{
		"echo-server":        "echoServer",
		"hello":              "hello",
		"cni-cilium":         "cniCilium",
		"cloud-provider-aws": "cloudProviderAws",
	} {
		got, err := ModuleKey(name)
		if err != nil || got != want {
			t.Errorf("ModuleKey(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, bad := range []string{"", "Echo", "echo_server", "echo--server", "-echo", "echo-", "a-1b", "echo server"} {
		if key, err := ModuleKey(bad); err == nil {
			t.Errorf("ModuleKey(%q) = %q, want an error", bad, key)
		} else if !strings.Contains(err.Error(), "module name") {
			t.Errorf("ModuleKey(%q) error %q does not name the module name", bad, err)
		}
	}
	if got := EnabledKey("echoServer"); got != "echoServerEnabled" {
		t.Errorf("EnabledKey = %q", got)
	}
}

func TestMergeIsDeepAndDoesNotMutate(t *testing.T) {
	a := map[string]any{"a": map[string]any{"x": 1.0, "y": []any{1.0}}, "k": "a"}
	b := map[string]any{"a": map[string]any{"y": []any{2.0}, "z": true}}
	got := Merge(a, b)
	want := map[string]any{"a": map[string]any{"x": 1.0, "y": []any{2.0}, "z": true}, "k": "a"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Merge = %v, want %v", got, want)
	}
	got["a"].(map[string]any)["x"] = 5.0
	if a["a"].(map[string]any)["x"] != 1.0 {
		t.Fatal("Merge result shares maps with its input")
	}
}

func writeSchemas(t *testing.T, config, vals string) string {
	t.Helper()
	dir := t.TempDir()
	if config != "" {
		if err := os.WriteFile(filepath.Join(dir, ConfigSchemaFile), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if vals != "" {
		if err := os.WriteFile(filepath.Join(dir, ValuesSchemaFile), []byte(vals), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const testConfig = `
type: object
x-config-version: 2
properties:
  replicas: {type: integer, default: 1, minimum: 1}
  nested:
    type: object
    default: {}
    properties:
      level: {type: string, enum: [Info, Debug], default: Info}
      extra: {type: string}
x-examples:
  - replicas: 2
`

const testValues = `
x-extend: {schema: config-values.yaml}
type: object
properties:
  internal:
    type: object
    default: {}
    x-required-for-helm: [token]
    properties:
      token: {type: string}
`

func TestLoadSchemasExtendDefaultsAndValidation(t *testing.T) {
	s, err := LoadSchemas(writeSchemas(t, testConfig, testValues))
	if err != nil {
		t.Fatal(err)
	}
	if s.ConfigVersion != 2 {
		t.Errorf("ConfigVersion = %d", s.ConfigVersion)
	}
	if _, ok := s.Values.Properties["replicas"]; !ok {
		t.Fatal("x-extend did not merge config properties into the values schema")
	}
	got := ApplyDefaults(s.Values, map[string]any{"nested": map[string]any{"extra": "x"}})
	want := map[string]any{"replicas": float64(1), "internal": map[string]any{}, "nested": map[string]any{"level": "Info", "extra": "x"}}
	if !reflect.DeepEqual(normalize(t, got), want) {
		t.Fatalf("defaults = %#v, want %#v", got, want)
	}
	// additionalProperties: false is injected where unset, as addon-operator does.
	err = Validate(s.Values, "demo", map[string]any{"replicas": 1.0, "nested": map[string]any{"unknown": "x"}})
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "demo.nested") || !strings.Contains(err.Error(), "unknown") {
		t.Fatalf("unknown nested key: got %v", err)
	}
	err = Validate(s.Config, "demo", map[string]any{"replicas": 0.0})
	if err == nil || !strings.Contains(err.Error(), "demo.replicas") {
		t.Fatalf("minimum violation: got %v", err)
	}
	// The helm schema adds x-required-for-helm; the plain values schema does not.
	partial := map[string]any{"replicas": 1.0, "internal": map[string]any{}}
	if err := Validate(s.Values, "demo", partial); err != nil {
		t.Fatalf("values schema: %v", err)
	}
	if err := Validate(s.Helm, "demo", partial); err == nil || !strings.Contains(err.Error(), "demo.internal.token") {
		t.Fatalf("helm schema without internal: got %v", err)
	}
}

func TestLoadSchemasRejectsInvalidSchemaNamingFile(t *testing.T) {
	for name, tc := range map[string]struct{ config, values, want string }{
		"bad type":           {config: "type: object\nproperties:\n  a: {type: strin}\n", want: "config-values.yaml"},
		"not yaml":           {config: "type: [object\n", want: "config-values.yaml"},
		"bad config version": {config: "type: object\nx-config-version: zero\n", want: "x-config-version"},
		"bad x-extend":       {config: "type: object\n", values: "x-extend: [config-values.yaml]\ntype: object\n", want: "x-extend"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadSchemas(writeSchemas(t, tc.config, tc.values))
			var se *SchemaError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a SchemaError naming %q", err, tc.want)
			}
		})
	}
}

// addon-operator decodes schemas without a meta-schema check, so what it
// accepts must load: an empty required list, repeated required names or enum
// values. LoadSchemasLenient keeps a schema that fails only the meta-schema.
func TestLoadSchemasAcceptsHarmlessDraft04Deviations(t *testing.T) {
	dir := writeSchemas(t, "type: object\nrequired: []\nproperties:\n  a: {type: string, enum: [X, X]}\n  b:\n    type: object\n    required: [c, c]\n    properties: {c: {type: string}}\n", "")
	s, err := LoadSchemas(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(s.Config, "m", map[string]any{"b": map[string]any{}}); err == nil {
		t.Fatal("required: [c, c] no longer requires c")
	}

	dir = writeSchemas(t, "type: object\nminProperties: -1\nproperties:\n  a: {type: string, default: x}\n", "")
	if _, err := LoadSchemas(dir); err == nil {
		t.Fatal("LoadSchemas accepted minProperties: -1")
	}
	s, err = LoadSchemasLenient(dir)
	var se *SchemaError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "minProperties") {
		t.Fatalf("got %v, want the meta-schema problem", err)
	}
	if s == nil || s.Config == nil || s.Config.Properties["a"].Default != "x" {
		t.Fatalf("lenient load did not keep the schema: %+v", s)
	}
}

func TestValidateExamples(t *testing.T) {
	cfg := testConfig + `  - replicas: 0
  - nested: {level: Trace}
`
	s, err := LoadSchemas(writeSchemas(t, cfg, ""))
	if err != nil {
		t.Fatal(err)
	}
	errs := ValidateExamples(s.Config)
	if len(errs) != 2 {
		t.Fatalf("got %d example errors (%v), want 2", len(errs), errs)
	}
	if errs[0].Index != 1 || !strings.Contains(errs[0].Error(), "x-examples[1]") || !strings.Contains(errs[0].Error(), "replicas") {
		t.Errorf("first error = %v", errs[0])
	}
	if errs[1].Index != 2 || !strings.Contains(errs[1].Error(), "level") {
		t.Errorf("second error = %v", errs[1])
	}
}

func TestBuildLayersAsTheRuntime(t *testing.T) {
	s, err := LoadSchemas(writeSchemas(t, testConfig, testValues))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Build(Input{
		ModuleName:     "echo-server",
		Schemas:        s,
		CommonStatic:   map[string]any{"echoServer": map[string]any{"replicas": 5, "nested": map[string]any{"extra": "common", "level": "Info"}}},
		Static:         map[string]any{"echoServer": map[string]any{"replicas": 3, "nested": map[string]any{"extra": "static"}}, "other": map[string]any{"x": 1}},
		Config:         map[string]any{"nested": map[string]any{"level": "Debug"}},
		Global:         map[string]any{"clusterConfiguration": map[string]any{"clusterDomain": "example.org"}},
		EnabledModules: []string{"echo-server", "cert-manager"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ModuleKey != "echoServer" {
		t.Fatalf("key %q", res.ModuleKey)
	}
	wantModule := map[string]any{
		"replicas": float64(3), // static wins over the config default; the user did not set it
		"nested":   map[string]any{"level": "Debug", "extra": "static"},
		"internal": map[string]any{},
	}
	if !reflect.DeepEqual(res.Module, wantModule) {
		t.Fatalf("module values = %#v, want %#v", res.Module, wantModule)
	}
	// static + settings, no defaults, as CONFIG_VALUES_PATH shows it
	wantConfig := map[string]any{"replicas": float64(3), "nested": map[string]any{"level": "Debug", "extra": "static"}}
	if !reflect.DeepEqual(res.Config, wantConfig) {
		t.Fatalf("config values = %#v, want %#v", res.Config, wantConfig)
	}
	if got := res.Global["enabledModules"]; !reflect.DeepEqual(got, []any{"cert-manager", "echo-server"}) {
		t.Fatalf("enabledModules = %v", got)
	}
	if _, err := res.ForHelm(s); err == nil || !strings.Contains(err.Error(), "x-required-for-helm") {
		t.Fatalf("ForHelm without internal.token: got %v", err)
	}
	res.Module["internal"] = map[string]any{"token": "t"}
	helm, err := res.ForHelm(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := helm["echoServer"]; !ok || helm["global"] == nil || len(helm) != 2 {
		t.Fatalf("helm values keys = %v", helm)
	}

	_, err = Build(Input{ModuleName: "echo-server", Schemas: s, Config: map[string]any{"replicas": "two"}})
	if err == nil || !strings.Contains(err.Error(), "settings of module echo-server") || !strings.Contains(err.Error(), "echoServer.replicas") {
		t.Fatalf("bad settings: got %v", err)
	}
	if _, err := Build(Input{ModuleName: "Echo"}); err == nil {
		t.Fatal("bad module name accepted")
	}
}

func normalize(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	n, err := Normalize(m)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestExplicitAdditionalPropertiesKeepsSubtreeOpen(t *testing.T) {
	s, err := LoadSchemas(writeSchemas(t, `
type: object
properties:
  open:
    type: object
    additionalProperties: true
    properties:
      inner: {type: object}
  closed:
    type: object
    properties:
      inner: {type: object}
`, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(s.Config, "m", map[string]any{"open": map[string]any{"x": 1.0, "inner": map[string]any{"y": 1.0}}}); err != nil {
		t.Fatalf("open subtree rejected: %v", err)
	}
	if err := Validate(s.Config, "m", map[string]any{"closed": map[string]any{"inner": map[string]any{"y": 1.0}}}); err == nil || !strings.Contains(err.Error(), "m.closed.inner") {
		t.Fatalf("closed subtree: got %v", err)
	}
}

func TestStubRequiredInternalLeavesOtherValuesAlone(t *testing.T) {
	s, err := LoadSchemas(writeSchemas(t, "", `
type: object
x-required-for-helm: [user]
properties:
  user: {type: string}
  internal:
    type: object
    required: [cert]
    properties:
      cert: {type: string}
      set: {type: string}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := StubRequiredInternal(s.Helm, map[string]any{})
	want := map[string]any{"internal": map[string]any{"cert": "stub"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("from nothing: got %v, want %v", got, want)
	}
	in := map[string]any{"internal": map[string]any{"cert": "real", "set": "x"}}
	if got := StubRequiredInternal(s.Helm, in); !reflect.DeepEqual(got, in) {
		t.Fatalf("set values changed: %v", got)
	}
	res, err := Build(Input{ModuleName: "m", Schemas: s, StubInternal: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Module["internal"].(map[string]any)["cert"] != "stub" {
		t.Fatalf("Build did not stub internal.cert: %v", res.Module)
	}
	if _, err := res.ForHelm(s); err == nil || !strings.Contains(err.Error(), "user") {
		t.Fatalf("user-facing x-required-for-helm must stay required: got %v", err)
	}
}

func TestStubRequired(t *testing.T) {
	s, err := LoadSchemas(writeSchemas(t, "", `
type: object
properties:
  internal:
    type: object
    x-required-for-helm: [cert, port, mode, nested, list, flag, ex]
    properties:
      cert: {type: string}
      port: {type: integer, minimum: 1024}
      mode: {type: string, enum: [A, B]}
      flag: {type: boolean}
      list: {type: array, items: {type: string}}
      ex: {type: string, x-examples: [sample]}
      nested:
        type: object
        required: [inner]
        properties:
          inner: {type: string, default: d}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := StubRequired(s.Helm, map[string]any{"internal": map[string]any{"cert": "set"}})
	want := map[string]any{"internal": map[string]any{
		"cert": "set", "port": float64(1024), "mode": "A", "flag": false, "list": []any{}, "ex": "sample",
		"nested": map[string]any{"inner": "d"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("StubRequired = %#v\nwant %#v", got, want)
	}
	if err := Validate(s.Helm, "m", got); err != nil {
		t.Fatalf("stubbed values do not satisfy the helm schema: %v", err)
	}
}

func TestParseSchema(t *testing.T) {
	s, err := ParseSchema("inline.yaml", []byte("type: object\nproperties:\n  a: {type: string}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(s, "x", map[string]any{"b": "c"}); err == nil {
		t.Fatal("additionalProperties: false was not injected")
	}
	if _, err := ParseSchema("inline.yaml", []byte("type: 5\n")); err == nil || !strings.HasPrefix(err.Error(), "inline.yaml:1: type: ") {
		t.Fatalf("bad schema: got %v", err)
	}
}

func TestBuildAppliesObjectDefaultsBeforeSettingsLikeAddonOperator(t *testing.T) {
	s, err := LoadSchemas(writeSchemas(t, `
type: object
properties:
  obj:
    type: object
    default: {a: 1}
    properties:
      a: {type: integer}
      b: {type: integer}
`, ""))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Build(Input{ModuleName: "m", Schemas: s, Config: map[string]any{"obj": map[string]any{"b": 2}}})
	if err != nil {
		t.Fatal(err)
	}
	// layers: static, config-values defaults, settings (deep merge), values defaults
	if want := map[string]any{"obj": map[string]any{"a": float64(1), "b": float64(2)}}; !reflect.DeepEqual(res.Module, want) {
		t.Fatalf("module values = %v, want %v", res.Module, want)
	}
	if want := map[string]any{"obj": map[string]any{"b": float64(2)}}; !reflect.DeepEqual(res.Config, want) {
		t.Fatalf("config values = %v, want %v", res.Config, want)
	}
}

func TestBuildInjectsRegistry(t *testing.T) {
	s, err := LoadSchemas(writeSchemas(t, testConfig, testValues))
	if err != nil {
		t.Fatal(err)
	}
	reg := &Registry{Base: "registry.example.com/modules", DockerCfg: "e30=", Scheme: "https"}
	res, err := Build(Input{ModuleName: "echo-server", Schemas: s, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"base": "registry.example.com/modules", "dockercfg": "e30=", "scheme": "https"}
	if !reflect.DeepEqual(res.Module["registry"], want) {
		t.Fatalf("registry = %v", res.Module["registry"])
	}
	if _, ok := s.Values.Properties["registry"]; ok {
		t.Fatal("Build modified the loaded schemas")
	}
	res.Module["internal"] = map[string]any{"token": "t"}
	if _, err := res.ForHelm(s); err != nil {
		t.Fatalf("helm values with the injected registry: %v", err)
	}
	res.Module["registry"] = map[string]any{"base": "x", "extra": true}
	if _, err := res.ForHelm(s); err == nil || !strings.Contains(err.Error(), "registry") {
		t.Fatalf("bad registry section: got %v", err)
	}
	if _, err := Build(Input{ModuleName: "echo-server", Schemas: s, Config: map[string]any{"registry": map[string]any{}}}); err == nil {
		t.Fatal("users must not set registry through settings")
	}
}

func TestRegistryReplacesDeclaredPlaceholder(t *testing.T) {
	s, err := LoadSchemas(writeSchemas(t, "", "type: object\nproperties:\n  registry: {type: object, description: overwritten by Deckhouse}\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Build(Input{ModuleName: "m", Schemas: s, Registry: &Registry{Base: "r.example/m", Scheme: "http"}})
	if err != nil {
		t.Fatalf("registry against a placeholder schema: %v", err)
	}
	if _, err := res.ForHelm(s); err != nil {
		t.Fatal(err)
	}
}

// TestBuildSharesGlobal: the runtime hands every module one global map
// (global.enabledModules names every module), so Build must not copy it per
// module, and must not write to it when it adds enabledModules itself.
func TestBuildSharesGlobal(t *testing.T) {
	global := map[string]any{"clusterConfiguration": map[string]any{"clusterDomain": "cluster.local"}, "enabledModules": []any{"a", "b"}}
	a, err := Build(Input{ModuleName: "a", Global: global})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(Input{ModuleName: "b", Global: global})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(a.Global).UnsafePointer() != reflect.ValueOf(global).UnsafePointer() ||
		reflect.ValueOf(b.Global).UnsafePointer() != reflect.ValueOf(global).UnsafePointer() {
		t.Fatal("Result.Global is a copy of Input.Global; want the same map for every module")
	}

	c, err := Build(Input{ModuleName: "c", Global: global, EnabledModules: []string{"z", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Global["enabledModules"]; !reflect.DeepEqual(got, []any{"c", "z"}) {
		t.Fatalf("enabledModules = %v, want [c z] (sorted)", got)
	}
	if got := global["enabledModules"]; !reflect.DeepEqual(got, []any{"a", "b"}) {
		t.Fatalf("the caller's global map was modified: enabledModules = %v", got)
	}
}
