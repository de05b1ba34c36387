package hook

import "encoding/json"

// ContextType is the "type" of a binding context.
type ContextType string

// Binding context types.
const (
	TypeSynchronization ContextType = "Synchronization"
	TypeEvent           ContextType = "Event"
	TypeSchedule        ContextType = "Schedule"
	TypeGroup           ContextType = "Group"
)

// ObjectAndFilterResult is one object as a kubernetes binding keeps it: the
// full object (unless the binding dropped it) and the jq filter output. Both
// are raw JSON so nothing is decoded again between the watcher and the hook.
type ObjectAndFilterResult struct {
	// Object is the full object JSON. nil means the binding does not keep
	// full objects (keepFullObjectsInMemory: false): "object" is omitted.
	Object json.RawMessage
	// FilterResult is the jq filter output as JSON. With Filtered set, an
	// empty FilterResult is written as null.
	FilterResult json.RawMessage
	// Filtered is true when the binding has a jqFilter: "filterResult" is
	// then always written. Without it, "filterResult" is written only when
	// FilterResult is non-empty.
	Filtered bool
	// ResourceID is "<namespace>/<kind>/<name>"; for sorting and lookups
	// only, never written.
	ResourceID string
	// Checksum of the filter result (or of the object without a filter);
	// for change detection only, never written.
	Checksum string
}

// BindingContext describes why a hook runs. A run gets a list of them.
// Marshal it with MarshalContexts / WriteContexts, which honour the
// shell-operator key presence rules for the hook's config version.
type BindingContext struct {
	// Binding is the binding name ("onStartup", a schedule or kubernetes
	// binding name, or an addon-operator lifecycle binding like "beforeHelm").
	Binding string
	// BindingType is the kind of binding that produced the context.
	BindingType BindingType
	// Type is TypeSynchronization or TypeEvent for kubernetes bindings; it
	// is derived for schedule and grouped contexts and may be left empty.
	Type ContextType
	// WatchEvent is the event type of a kubernetes Event context.
	WatchEvent WatchEvent
	// Objects holds the Synchronization objects, or for an Event its one
	// object (an Event with no object is written with "object": null).
	Objects []ObjectAndFilterResult
	// Snapshots maps binding names to their objects; see IncludeSnapshots.
	Snapshots map[string][]ObjectAndFilterResult

	// HasJqFilter tells whether the binding has a jqFilter (an Event
	// without an object then carries "filterResult": "").
	HasJqFilter bool
	// IncludeSnapshots lists the bindings whose snapshots the context
	// carries; with IncludeAllSnapshots (addon-operator lifecycle
	// bindings) "snapshots" is written even when this is empty.
	IncludeSnapshots    []string
	IncludeAllSnapshots bool
	// Group is the binding's group; a grouped context is written as
	// {"binding","type":"Group","groupName","snapshots"}.
	Group string
	// Review is the AdmissionReview or ConversionReview of a webhook run.
	Review json.RawMessage
	// FromVersion and ToVersion are a conversion step's versions.
	FromVersion, ToVersion string
	// MonitorID identifies the watch a Synchronization came from, so the
	// runtime can unlock that watch's events after the run; never written.
	MonitorID string
}

// IsSynchronization reports whether bc is a kubernetes Synchronization.
func (bc BindingContext) IsSynchronization() bool {
	return bc.BindingType == BindingKubernetes && bc.Type == TypeSynchronization
}
