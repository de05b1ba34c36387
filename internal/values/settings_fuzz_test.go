package values

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzModuleConfigSettings runs ModuleConfig spec.settings, as a user writes
// them, through what the runtime and the operator do with them: conversions
// from spec.version up, CEL rules (self and oldSelf), defaults and the
// schema. Whatever the input, nothing panics, the caller's settings are
// never modified (a refused ModuleConfig must leave no trace), and what is
// accepted builds values that pass the schema again.
func FuzzModuleConfigSettings(f *testing.F) {
	schemas, err := LoadSchemas("testdata/settings-module/openapi")
	if err != nil {
		f.Fatal(err)
	}
	conv, err := LoadConversions("testdata/settings-module")
	if err != nil {
		f.Fatal(err)
	}
	old := ApplyDefaults(schemas.Config, map[string]any{"replicas": float64(8)})
	for _, s := range []struct {
		settings string
		version  int
	}{
		{`{}`, 2},
		{`{"replicas":3,"highAvailability":true}`, 2},
		{`{"replicas":1,"highAvailability":true}`, 2},
		{`{"size":"5Gi","debug":true}`, 1},
		{`{"size":5,"debug":"yes"}`, 1},
		{`{"storage":{"class":""}}`, 2},
		{`{"replicas":1.5}`, 2},
		{`{"replicas":-1,"logLevel":"Trace"}`, 0},
		{`{"nodeSelector":{"a":1}}`, 2},
		{`{"unknown":true}`, 7},
		{`[]`, 2},
	} {
		f.Add([]byte(s.settings), s.version, false)
		f.Add([]byte(s.settings), s.version, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, version int, withOld bool) {
		var settings map[string]any
		if json.Unmarshal(data, &settings) != nil {
			return // not an object: the API server refuses it before us
		}
		var pristine map[string]any
		_ = json.Unmarshal(data, &pristine)

		converted, _, err := conv.Convert(settings, version)
		if err == nil {
			var oldSelf map[string]any
			if withOld {
				oldSelf = old
			}
			err = ValidateRules(schemas.Config, ApplyDefaults(schemas.Config, converted), oldSelf)
		}
		var res *Result
		if err == nil {
			res, err = Build(Input{ModuleName: "settings-module", Schemas: schemas, Config: converted})
		}
		if !reflect.DeepEqual(settings, pristine) {
			t.Fatalf("settings modified in place:\n got %v\nwant %v", settings, pristine)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if res.Module == nil {
			t.Fatal("accepted settings gave no module values")
		}
		if err := Validate(schemas.Values, "settingsModule", res.Module); err != nil {
			t.Fatalf("accepted values fail the schema: %v", err)
		}
	})
}
