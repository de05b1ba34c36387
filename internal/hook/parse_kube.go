package hook

var kubernetesV1Keys = []string{
	"name", "apiVersion", "kind", "executeHookOnEvent", "watchEvent",
	"executeHookOnSynchronization", "waitForSynchronization", "keepFullObjectsInMemory",
	"resynchronizationPeriod", "nameSelector", "labelSelector", "fieldSelector", "namespace",
	"jqFilter", "allowFailure", "includeSnapshotsFrom", "queue", "group",
}

var fieldOperators = []string{"=", "==", "Equals", "!=", "NotEquals"}

func (w *walker) kubernetesV1(path string, v any) (KubernetesBinding, bool) {
	m, ok := w.object(path, v, kubernetesV1Keys...)
	if !ok {
		return KubernetesBinding{}, false
	}
	before := len(w.errs)
	b := KubernetesBinding{
		Name:                         w.optStr(path, m, "name"),
		AllowFailure:                 w.optBool(path, m, "allowFailure", false),
		Queue:                        w.optStr(path, m, "queue"),
		Group:                        w.optStr(path, m, "group"),
		ExecuteHookOnSynchronization: w.optBool(path, m, "executeHookOnSynchronization", true),
		ResynchronizationPeriod:      w.optStr(path, m, "resynchronizationPeriod"),
	}
	if b.Name == "" {
		b.Name = DefaultKubernetesName
	}
	// waitForSynchronization: false only counts with an explicit queue.
	b.WaitForSynchronization = w.optBool(path, m, "waitForSynchronization", true) || b.Queue == ""
	if b.Queue == "" {
		b.Queue = DefaultQueue
	}
	if raw, ok := m["includeSnapshotsFrom"]; ok {
		b.IncludeSnapshotsFrom, _ = w.strList(join(path, "includeSnapshotsFrom"), raw, 1)
	}

	ws := &b.Watch
	ws.KeepFullObjectsInMemory = w.optBool(path, m, "keepFullObjectsInMemory", true)
	ws.Kind = w.watchKind(path, m)
	if raw, ok := m["apiVersion"]; ok {
		ws.APIVersion = w.apiVersion(join(path, "apiVersion"), raw)
	}
	if raw, ok := m["jqFilter"]; ok {
		ws.JqFilter = w.jqFilter(join(path, "jqFilter"), raw)
	}
	// executeHookOnEvent wins over its legacy alias watchEvent.
	ws.ExecuteHookOnEvent = AllWatchEvents()
	for _, key := range []string{"watchEvent", "executeHookOnEvent"} {
		if raw, ok := m[key]; ok {
			ws.ExecuteHookOnEvent = w.watchEvents(join(path, key), raw)
		}
	}
	if raw, ok := m["nameSelector"]; ok {
		ws.NameSelector = w.nameSelector(join(path, "nameSelector"), raw)
	}
	if raw, ok := m["labelSelector"]; ok {
		ws.LabelSelector = w.labelSelector(join(path, "labelSelector"), raw)
	}
	if raw, ok := m["fieldSelector"]; ok {
		ws.FieldSelector = w.fieldSelector(join(path, "fieldSelector"), raw)
		if len(ws.NameSelector) > 0 {
			for i, r := range ws.FieldSelector {
				if r.Field == "metadata.name" {
					w.fail(index(join(path, "fieldSelector.matchExpressions"), i),
						"a metadata.name field selector and nameSelector.matchNames are mutually exclusive")
				}
			}
		}
	}
	if raw, ok := m["namespace"]; ok {
		ws.Namespace = w.namespaceSelector(join(path, "namespace"), raw)
	}
	return b, len(w.errs) == before
}

// watchKind reads the binding's "kind": required, a non-empty string.
func (w *walker) watchKind(path string, m map[string]any) string {
	raw, ok := m["kind"]
	if !ok {
		w.fail(join(path, "kind"), "required")
		return ""
	}
	kind, isStr := w.str(join(path, "kind"), raw)
	if isStr && kind == "" {
		w.fail(join(path, "kind"), "must not be empty")
	}
	return kind
}

func (w *walker) watchEvents(path string, v any) []WatchEvent {
	names, _ := w.strList(path, v, 0)
	out := make([]WatchEvent, 0, len(names))
	for i, n := range names {
		if w.enum(index(path, i), n, string(WatchEventAdded), string(WatchEventModified), string(WatchEventDeleted)) {
			out = append(out, WatchEvent(n))
		}
	}
	return out
}

func (w *walker) fieldSelector(path string, v any) []FieldRequirement {
	m, ok := w.object(path, v, "matchExpressions")
	if !ok {
		return nil
	}
	raw, ok := m["matchExpressions"]
	if !ok {
		w.fail(join(path, "matchExpressions"), "required")
		return nil
	}
	ep := join(path, "matchExpressions")
	items, _ := w.list(ep, raw, 0)
	var out []FieldRequirement
	for i, item := range items {
		ip := index(ep, i)
		im, ok := w.object(ip, item, "field", "operator", "value")
		if !ok {
			continue
		}
		r := FieldRequirement{}
		for _, key := range []string{"field", "operator", "value"} {
			if _, ok := im[key]; !ok {
				w.fail(join(ip, key), "required")
			}
		}
		r.Field = w.optStr(ip, im, "field")
		r.Value = w.optStr(ip, im, "value")
		if op := w.optStr(ip, im, "operator"); op != "" || im["operator"] != nil {
			if w.enum(join(ip, "operator"), op, fieldOperators...) {
				switch op {
				case "!=", "NotEquals":
					r.Operator = "!="
				default:
					r.Operator = "="
				}
			}
		}
		if _, ok := im["field"]; ok && r.Field == "" {
			w.fail(join(ip, "field"), "must not be empty")
		}
		out = append(out, r)
	}
	return out
}

func (w *walker) namespaceSelector(path string, v any) NamespaceSelector {
	m, ok := w.object(path, v, "nameSelector", "labelSelector")
	if !ok {
		return NamespaceSelector{}
	}
	if len(m) == 0 {
		w.fail(path, "must set nameSelector or labelSelector")
	}
	ns := NamespaceSelector{}
	if raw, ok := m["nameSelector"]; ok {
		ns.MatchNames = w.nameSelector(join(path, "nameSelector"), raw)
	}
	if raw, ok := m["labelSelector"]; ok {
		ns.LabelSelector = w.labelSelector(join(path, "labelSelector"), raw)
	}
	return ns
}
