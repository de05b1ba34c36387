package runtime

import "reflect"

// moduleNamesByKey maps values keys to module names, for the ConfigMap.
func (r *Runtime) moduleNamesByKey() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.modules))
	for name, s := range r.modules {
		if s.broken {
			continue
		}
		out[s.mod.ValuesKey] = name
	}
	return out
}

// onConfig takes a new view of the cluster's config. Settings are converted
// and validated per module before they replace the old ones: a bad entry is
// reported (Module and ModuleConfig status, event log, metric) and the
// module keeps its last good settings. An enablement or global change starts
// a converge; a settings change reconciles that module alone.
func (r *Runtime) onConfig(cfg *Config, errs []error) {
	for _, err := range errs {
		r.metrics.configErrors.Inc()
		r.log.Error("module config refused", "error", err)
	}
	r.mu.Lock()
	old := r.config
	r.config = cfg
	first := !r.configOK
	r.configOK = true
	mods := append([]*moduleState(nil), r.ordered...)
	r.mu.Unlock()

	converge := first
	if err := r.global.vals.setConfig(cfg.Global); err != nil {
		r.metrics.configErrors.Inc()
		r.log.Error("global settings refused; the last good ones stay", "error", err)
	} else if old == nil || !reflect.DeepEqual(old.Global, cfg.Global) {
		converge = true
	}
	for _, s := range mods {
		if s.broken {
			continue
		}
		newMC, oldMC := cfg.module(s.mod.Name), old.module(s.mod.Name)
		if !reflect.DeepEqual(newMC.Enabled, oldMC.Enabled) {
			converge = true
		}
		if reflect.DeepEqual(newMC.Settings, oldMC.Settings) && newMC.Version == oldMC.Version && !first {
			if newMC.Maintenance != oldMC.Maintenance {
				r.reconcileIfEnabled(s)
			}
			continue
		}
		version, err := s.vals.setConfig(newMC.Settings, newMC.Version)
		r.status.configStatus(s.mod.Name, newMC, version, err)
		if err != nil {
			r.metrics.configErrors.Inc()
			r.log.Error("module settings refused; the last good ones stay", "module", s.mod.Name, "from", newMC.From, "error", err)
			s.setStatus(func(st *moduleStatus) {
				st.Error, st.ErrorSource = err.Error(), "settings"
			})
			r.status.enqueue(s)
			continue
		}
		r.reconcileIfEnabled(s)
	}
	if converge {
		r.requestConverge("config changed")
	}
}

func (r *Runtime) reconcileIfEnabled(s *moduleState) {
	s.mu.Lock()
	want := s.desired && s.decided
	s.mu.Unlock()
	if want {
		r.enqueueReconcile(s)
	}
}
