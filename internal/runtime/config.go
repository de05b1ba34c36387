package runtime

import (
	"fmt"
	"maps"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// GlobalConfigName is the ModuleConfig (and ConfigMap key) holding global settings.
const GlobalConfigName = "global"

// Config is the cluster's configuration of the modules at one moment:
// addon-operator's ConfigMap and deckhouse.io ModuleConfig objects merged,
// a ModuleConfig winning over the ConfigMap for its module.
type Config struct {
	// Global are the global settings ("global" key / ModuleConfig "global").
	Global map[string]any
	// Modules are the per-module entries, by module name.
	Modules map[string]ModuleConfig
}

// ModuleConfig is the configuration of one module.
type ModuleConfig struct {
	// Enabled is the explicit choice; nil leaves it to the module's defaults.
	Enabled *bool
	// Settings are the user settings (nil: none given).
	Settings map[string]any
	// Version is the settings schema version they were written for (0: current).
	Version int
	// Maintenance is "NoResourceReconciliation" to stop Helm upgrades.
	Maintenance string
	// From names where the entry came from, for messages
	// ("ModuleConfig hello", "ConfigMap d8-system/addon-operator key hello").
	From string
}

func (c *Config) module(name string) ModuleConfig {
	if c == nil {
		return ModuleConfig{}
	}
	return c.Modules[name]
}

// ConfigError is a bad entry of the config; the entry is ignored and the
// module keeps its last good settings.
type ConfigError struct {
	From  string
	Field string
	Err   error
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", e.From, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.From, e.Field, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// MaintenanceNoReconcile is the maintenance mode that stops Helm upgrades.
const MaintenanceNoReconcile = "NoResourceReconciliation"

// parseConfigMap reads addon-operator's ConfigMap: "global" and "<moduleKey>"
// hold YAML settings, "<moduleKey>Enabled" "true" or "false",
// "<moduleKey>MaintenanceState" a maintenance mode. names maps module keys
// to module names; keys of unknown modules are kept by key, so a module
// that appears later gets them.
func parseConfigMap(from string, data map[string]string, names map[string]string) (*Config, []error) {
	cfg := &Config{Modules: map[string]ModuleConfig{}}
	var errs []error
	name := func(key string) string {
		if n, ok := names[key]; ok {
			return n
		}
		return key
	}
	for key, raw := range data {
		switch {
		case key == values.GlobalKey:
			m, err := parseSettings(raw)
			if err != nil {
				errs = append(errs, &ConfigError{From: from, Field: key, Err: err})
				continue
			}
			cfg.Global = m
		case strings.HasSuffix(key, "Enabled") && len(key) > len("Enabled"):
			mk := strings.TrimSuffix(key, "Enabled")
			mc := cfg.Modules[name(mk)]
			switch strings.TrimSpace(raw) {
			case "true":
				mc.Enabled = ptr(true)
			case "false":
				mc.Enabled = ptr(false)
			default:
				errs = append(errs, &ConfigError{From: from, Field: key, Err: fmt.Errorf("want \"true\" or \"false\", got %q", raw)})
				continue
			}
			mc.From = from + " key " + key
			cfg.Modules[name(mk)] = mc
		case strings.HasSuffix(key, "MaintenanceState") && len(key) > len("MaintenanceState"):
			mk := strings.TrimSuffix(key, "MaintenanceState")
			mc := cfg.Modules[name(mk)]
			mc.Maintenance = strings.TrimSpace(raw)
			cfg.Modules[name(mk)] = mc
		default:
			m, err := parseSettings(raw)
			if err != nil {
				errs = append(errs, &ConfigError{From: from, Field: key, Err: err})
				continue
			}
			mc := cfg.Modules[name(key)]
			mc.Settings = m
			if mc.From == "" {
				mc.From = from + " key " + key
			}
			cfg.Modules[name(key)] = mc
		}
	}
	return cfg, errs
}

// parseSettings reads a YAML object; empty text is an empty object.
func parseSettings(raw string) (map[string]any, error) {
	if strings.TrimSpace(raw) == "" {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return values.Normalize(m)
}

// merge lays ModuleConfig entries (over) on the ConfigMap's (base): a
// ModuleConfig replaces the whole entry of its module.
func merge(base, over *Config) *Config {
	out := &Config{Modules: map[string]ModuleConfig{}}
	for _, c := range []*Config{base, over} {
		if c == nil {
			continue
		}
		if c.Global != nil {
			out.Global = c.Global
		}
		maps.Copy(out.Modules, c.Modules)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
