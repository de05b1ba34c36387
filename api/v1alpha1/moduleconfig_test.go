package v1alpha1

import (
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestModuleConfigSettingsRoundTrip(t *testing.T) {
	var mc ModuleConfig
	err := yaml.UnmarshalStrict([]byte(`
apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: hello}
spec:
  enabled: false
  version: 1
  settings: {replicas: 2, nested: {a: [1, 2]}}
`), &mc)
	if err != nil {
		t.Fatal(err)
	}
	if en, ok := mc.Spec.IsEnabled(); en || !ok {
		t.Errorf("IsEnabled = %v, %v; want false, true", en, ok)
	}
	m, err := mc.Spec.SettingsMap()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"replicas": float64(2), "nested": map[string]any{"a": []any{float64(1), float64(2)}}}; !reflect.DeepEqual(m, want) {
		t.Fatalf("SettingsMap = %#v", m)
	}

	cp := mc.DeepCopy()
	if err := cp.Spec.SetSettings(map[string]any{"replicas": 3}); err != nil {
		t.Fatal(err)
	}
	if m2, _ := mc.Spec.SettingsMap(); m2["replicas"] != float64(2) {
		t.Errorf("DeepCopy shares settings with the original: %v", m2)
	}
	if err := cp.Spec.SetSettings(nil); err != nil || cp.Spec.Settings != nil {
		t.Errorf("SetSettings(nil) = %v, settings %v", err, cp.Spec.Settings)
	}
	if m3, err := cp.Spec.SettingsMap(); m3 != nil || err != nil {
		t.Errorf("SettingsMap of none = %v, %v", m3, err)
	}
}
