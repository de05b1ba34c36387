package hook

// configV0 reads the legacy format (no configVersion key). Unlike
// shell-operator, which only checks the top-level keys of v0 configs,
// unknown keys inside v0 bindings are rejected too: a typo there would
// otherwise silently change what the hook watches.
func (w *walker) configV0(top map[string]any, kind Kind) Config {
	cfg := Config{Version: ConfigV0}
	allowed := append([]string{"onStartup", "schedule", "onKubernetesEvent"}, lifecycleKeys(kind)...)
	w.object("", top, allowed...)
	if len(top) == 0 {
		w.fail("", "config has no bindings")
	}
	cfg.OnStartup = w.onStartup(top)
	w.lifecycle(top, kind, &cfg)
	if v, ok := top["schedule"]; ok {
		items, _ := w.list("schedule", v, 0)
		for i, item := range items {
			path := index("schedule", i)
			m, ok := w.object(path, item, "name", "crontab", "allowFailure")
			if !ok {
				continue
			}
			s := ScheduleBinding{
				Name:         w.optStr(path, m, "name"),
				AllowFailure: w.optBool(path, m, "allowFailure", false),
				Queue:        DefaultQueue,
			}
			if s.Name == "" {
				s.Name = DefaultScheduleName
			}
			if raw, ok := m["crontab"]; ok {
				s.Crontab = w.crontab(join(path, "crontab"), raw)
			} else {
				w.fail(join(path, "crontab"), "required")
			}
			cfg.Schedules = append(cfg.Schedules, s)
		}
	}
	if v, ok := top["onKubernetesEvent"]; ok {
		items, _ := w.list("onKubernetesEvent", v, 0)
		for i, item := range items {
			if b, ok := w.kubernetesV0(index("onKubernetesEvent", i), item); ok {
				cfg.Kubernetes = append(cfg.Kubernetes, b)
			}
		}
	}
	return cfg
}

var v0Events = map[string]WatchEvent{"add": WatchEventAdded, "update": WatchEventModified, "delete": WatchEventDeleted}

func (w *walker) kubernetesV0(path string, v any) (KubernetesBinding, bool) {
	m, ok := w.object(path, v, "name", "event", "kind", "selector", "objectName", "namespaceSelector", "jqFilter", "allowFailure")
	if !ok {
		return KubernetesBinding{}, false
	}
	before := len(w.errs)
	b := KubernetesBinding{
		Name:                         w.optStr(path, m, "name"),
		AllowFailure:                 w.optBool(path, m, "allowFailure", false),
		Queue:                        DefaultQueue,
		ExecuteHookOnSynchronization: false,
		WaitForSynchronization:       true,
	}
	if b.Name == "" {
		b.Name = DefaultKubernetesNameV0
	}
	ws := &b.Watch
	ws.NoSynchronization = true
	ws.KeepFullObjectsInMemory = true
	ws.Kind = w.watchKind(path, m)
	// As in shell-operator, a v0 binding without "event" runs on no event.
	ws.ExecuteHookOnEvent = []WatchEvent{}
	if raw, ok := m["event"]; ok {
		names, _ := w.strList(join(path, "event"), raw, 0)
		for i, n := range names {
			if w.enum(index(join(path, "event"), i), n, "add", "update", "delete") {
				ws.ExecuteHookOnEvent = append(ws.ExecuteHookOnEvent, v0Events[n])
			}
		}
	}
	if raw, ok := m["selector"]; ok {
		ws.LabelSelector = w.labelSelector(join(path, "selector"), raw)
	}
	if raw, ok := m["objectName"]; ok {
		if s, _ := w.str(join(path, "objectName"), raw); s != "" {
			ws.NameSelector = []string{s}
		}
	}
	if raw, ok := m["jqFilter"]; ok {
		ws.JqFilter = w.jqFilter(join(path, "jqFilter"), raw)
	}
	if raw, ok := m["namespaceSelector"]; ok {
		np := join(path, "namespaceSelector")
		if nm, ok := w.object(np, raw, "matchNames", "any"); ok {
			anyNS := w.optBool(np, nm, "any", false)
			var names []string
			if rn, ok := nm["matchNames"]; ok {
				names, _ = w.strList(join(np, "matchNames"), rn, 0)
			}
			if !anyNS {
				ws.Namespace.MatchNames = names
			}
		}
	}
	return b, len(w.errs) == before
}
