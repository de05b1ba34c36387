package runtime

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// Enablement reasons, as DKP names them on the Module's conditions.
const (
	ReasonBundle        = "Bundle"
	ReasonStaticValues  = "StaticValues"
	ReasonGlobalHook    = "DynamicGlobalHookExtender"
	ReasonModuleConfig  = "ModuleConfig"
	ReasonConfigMap     = "ConfigMap"
	ReasonEnabledScript = "EnabledScriptExtender"
	ReasonNotEnabled    = "NotEnabled"
)

// Env vars of the `enabled` script protocol.
const (
	envEnabledResult = "MODULE_ENABLED_RESULT"
	envEnabledReason = "MODULE_ENABLED_REASON"
)

// decision is the enablement of one module and what decided it.
type decision struct {
	enabled bool
	reason  string
	message string
	err     error // the enabled script failed: the previous decision stands
}

// decide walks the modules in weight order and applies, each overriding the
// one before: the bundle (module.yaml accessibility), static values
// (<key>Enabled in values.yaml files), global hooks (<key>Enabled in global
// values), the config (ConfigMap <key>Enabled, ModuleConfig spec.enabled)
// and, for a module enabled so far, its `enabled` script, which sees the
// modules enabled before it in global.enabledModules.
func (r *Runtime) decide(ctx context.Context, cfg *Config) map[string]decision {
	out := map[string]decision{}
	var enabled []string
	global := r.global.values()
	for _, s := range r.orderedModules() {
		if s.broken {
			continue
		}
		d := decision{reason: ReasonNotEnabled, message: "not enabled by the bundle, values or config"}
		key := s.mod.ValuesKey
		if def := s.mod.Definition; def != nil && def.Accessibility != nil {
			ed, ok := def.Accessibility.Editions[r.opts.Edition]
			if !ok {
				ed, ok = def.Accessibility.Editions["_default"]
			}
			if ok && ed.Available && slices.Contains(ed.EnabledInBundles, r.opts.Bundle) {
				d = decision{enabled: true, reason: ReasonBundle, message: "enabled by bundle " + r.opts.Bundle}
			}
		}
		if v, ok := staticEnabled(s, key); ok {
			d = decision{enabled: v, reason: ReasonStaticValues, message: "set by " + key + "Enabled in values.yaml"}
		}
		if v, ok := r.global.vals.dynamicEnabled(key); ok {
			d = decision{enabled: v, reason: ReasonGlobalHook, message: "set by a global hook"}
		}
		if mc := cfg.module(s.mod.Name); mc.Enabled != nil {
			reason := ReasonConfigMap
			if strings.HasPrefix(mc.From, "ModuleConfig") {
				reason = ReasonModuleConfig
			}
			d = decision{enabled: *mc.Enabled, reason: reason, message: "set by " + mc.From}
		}
		if d.enabled && s.mod.EnabledScript != "" {
			ok, why, err := r.runEnabledScript(ctx, s, global, enabled)
			switch {
			case err != nil:
				d.err = err
				s.mu.Lock()
				d.enabled = s.desired // keep what runs
				s.mu.Unlock()
				d.reason, d.message = ReasonEnabledScript, err.Error()
			case !ok:
				d = decision{enabled: false, reason: ReasonEnabledScript, message: "turned off by enabled script"}
				if why != "" {
					d.message += ": " + why
				}
			}
		}
		if d.enabled {
			enabled = append(enabled, s.mod.Name)
		}
		out[s.mod.Name] = d
	}
	return out
}

// staticEnabled reads <key>Enabled from the module's values.yaml, then
// from its modules directory's values.yaml (which wins).
func staticEnabled(s *moduleState, key string) (bool, bool) {
	var v, found bool
	for _, doc := range []map[string]any{s.mod.StaticValues, s.vals.common} {
		if b, ok := doc[values.EnabledKey(key)].(bool); ok {
			v, found = b, true
		}
	}
	return v, found
}

// runEnabledScript runs the module's `enabled` script with the values files
// and reads MODULE_ENABLED_RESULT ("true" or "false", anything else is an
// error naming the script).
func (r *Runtime) runEnabledScript(ctx context.Context, s *moduleState, global map[string]any, enabledBefore []string) (bool, string, error) {
	path := s.mod.EnabledScript
	g := maps.Clone(global) // top level only: the script reads it, nothing writes it
	g["enabledModules"] = toAnySlice(enabledBefore)
	inputs, err := s.vals.inputs(g)
	if err != nil {
		return false, "", fmt.Errorf("%s: %w", path, err)
	}
	h := &hook.Hook{Name: s.mod.Name + "/enabled", Path: path}
	res, err := r.opts.Executor.Run(ctx, h, nil, hook.RunOptions{
		TmpDir:  r.opts.TempDir,
		Env:     r.hookEnv(s),
		Inputs:  inputs,
		Outputs: []string{envEnabledResult, envEnabledReason},
		Logger:  r.log.With("module", s.mod.Name),
	})
	if err != nil {
		return false, "", fmt.Errorf("enabled script %s: %w", path, err)
	}
	switch strings.TrimSpace(string(res.Outputs[envEnabledResult])) {
	case "true":
		return true, "", nil
	case "false":
		return false, strings.TrimSpace(string(res.Outputs[envEnabledReason])), nil
	default:
		return false, "", fmt.Errorf("enabled script %s: %s must be \"true\" or \"false\", got %q", path, envEnabledResult, strings.TrimSpace(string(res.Outputs[envEnabledResult])))
	}
}

func toAnySlice(names []string) []any {
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = n
	}
	return out
}
