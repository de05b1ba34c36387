package kube

import "encoding/json"

// ObjectAndFilterResult is one object as a hook sees it. Its JSON form is
// the binding-context item: {"object": ..., "filterResult": ...}, each key
// present only when set. Both slices are shared with the Monitor's store:
// read them, never modify them.
type ObjectAndFilterResult struct {
	// Object is the object's JSON; nil when KeepFullObjectsInMemory is false.
	Object json.RawMessage `json:"object,omitempty"`
	// FilterResult is the jq output serialized as shell-operator does
	// (compact JSON; `null` for no output; an array for several outputs);
	// nil when the binding has no jqFilter.
	FilterResult json.RawMessage `json:"filterResult,omitempty"`
}

// EventType is the binding-context type of an Event.
type EventType string

// Event types.
const (
	// EventSynchronization carries every object once the initial lists are
	// complete. It is always the first event of a Monitor.
	EventSynchronization EventType = "Synchronization"
	// EventWatch carries one object that was added, modified or deleted.
	EventWatch EventType = "Event"
)

// WatchEventType is what happened to the object of an EventWatch.
type WatchEventType string

// Watch event types, as binding contexts spell them.
const (
	WatchAdded    WatchEventType = "Added"
	WatchModified WatchEventType = "Modified"
	WatchDeleted  WatchEventType = "Deleted"
)

// Event is what a Monitor hands its Handler.
type Event struct {
	// Binding is WatchSpec.Name.
	Binding string
	Type    EventType
	// WatchEvent is set for EventWatch.
	WatchEvent WatchEventType
	// Namespace and Name identify the object of an EventWatch.
	Namespace string
	Name      string
	// Objects holds the sorted snapshot for EventSynchronization (never
	// nil) and the one object for EventWatch. For Deleted it is the last
	// state seen.
	Objects []ObjectAndFilterResult
}

// Handler receives a Monitor's events, one at a time and in order, on a
// goroutine the Monitor owns. A slow handler delays later events of that
// Monitor but never the watches, which keep updating the snapshot. It must
// return once the context given to Start is done, or Stop waits for it.
//
// Holding events back until the Synchronization hook run finished (as
// shell-operator does) is the caller's part: the Monitor only guarantees
// that Synchronization comes first and that nothing it already contains is
// repeated as an event.
type Handler func(Event)
