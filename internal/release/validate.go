package release

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// Validate checks a downloaded version before it may run: the module
// loads under its name, its schemas parse, the ModuleConfig's settings
// (converted to the module's settings version) are valid for it, and its
// chart renders with them.
func Validate(ctx context.Context, dir, name string, reg *values.Registry, mc *v1alpha1.ModuleConfig) error {
	m, err := module.LoadRuntime(dir, module.WithName(name))
	if err != nil {
		return err
	}
	if m.Name != name {
		return fmt.Errorf("module.yaml names the module %q, the release is for %q", m.Name, name)
	}
	settings := map[string]any{}
	version := 0
	if mc != nil && mc.Spec.Settings != nil && len(mc.Spec.Settings.Raw) > 0 {
		if err := json.Unmarshal(mc.Spec.Settings.Raw, &settings); err != nil {
			return fmt.Errorf("ModuleConfig %s spec.settings: %w", name, err)
		}
		version = mc.Spec.Version
	}
	conv, err := values.LoadConversions(m.Dir)
	if err != nil {
		return err
	}
	if settings, _, err = conv.Convert(settings, version); err != nil {
		return err
	}
	if !m.HasChart {
		_, err := values.Build(values.Input{ModuleName: m.Name, Schemas: m.Schemas, Static: m.StaticValues, Config: settings, Registry: reg})
		return err
	}
	r := module.Render{Settings: settings, Registry: reg, StubRequiredForHelm: true}
	if _, err := r.Run(ctx, m); err != nil {
		return err
	}
	return nil
}
