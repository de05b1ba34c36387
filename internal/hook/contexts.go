package hook

// OnStartupContext is the context of an onStartup run.
func OnStartupContext() BindingContext {
	return BindingContext{Binding: OnStartupName, BindingType: BindingOnStartup}
}

// Context is the binding context of a tick of schedule binding s.
func (s ScheduleBinding) Context() BindingContext {
	return BindingContext{
		Binding:          s.Name,
		BindingType:      BindingSchedule,
		Type:             TypeSchedule,
		IncludeSnapshots: s.IncludeSnapshotsFrom,
		Group:            s.Group,
	}
}

// SynchronizationContext is the first context of kubernetes binding b after
// its watch listed the objects; monitorID names that watch. Objects are
// filled by RefreshSnapshots right before the run.
func (b KubernetesBinding) SynchronizationContext(monitorID string) BindingContext {
	return BindingContext{
		Binding:          b.Name,
		BindingType:      BindingKubernetes,
		Type:             TypeSynchronization,
		HasJqFilter:      b.Watch.JqFilter != "",
		IncludeSnapshots: b.IncludeSnapshotsFrom,
		Group:            b.Group,
		MonitorID:        monitorID,
	}
}

// EventContext is the context of one watch event of kubernetes binding b;
// obj is the object at event time (nil for an event without an object).
func (b KubernetesBinding) EventContext(ev WatchEvent, obj *ObjectAndFilterResult) BindingContext {
	bc := BindingContext{
		Binding:          b.Name,
		BindingType:      BindingKubernetes,
		Type:             TypeEvent,
		WatchEvent:       ev,
		HasJqFilter:      b.Watch.JqFilter != "",
		IncludeSnapshots: b.IncludeSnapshotsFrom,
		Group:            b.Group,
	}
	if obj != nil {
		bc.Objects = []ObjectAndFilterResult{*obj}
	}
	return bc
}

// LifecycleContext is the context of an addon-operator lifecycle run
// (beforeHelm, afterAll, ...): it carries the snapshots of all kubernetes
// bindings of the hook.
func (c *Config) LifecycleContext(bt BindingType) BindingContext {
	names := make([]string, 0, len(c.Kubernetes))
	for _, b := range c.Kubernetes {
		names = append(names, b.Name)
	}
	return BindingContext{
		Binding:             string(bt),
		BindingType:         bt,
		IncludeSnapshots:    names,
		IncludeAllSnapshots: true,
	}
}
