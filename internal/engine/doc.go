// Package engine is deckhand's hook engine: it runs loaded hooks through named
// queues (internal/queue), starts the kubernetes monitors (internal/kube) and
// schedules (internal/schedule) of their bindings, holds a binding's events
// until its Synchronization ran, runs hooks with an executor and applies what
// a successful run wrote (KUBERNETES_PATCH_PATH operations, METRICS_PATH
// metrics, and the owner's own files through RunIO) all-or-nothing.
//
// Two owners share it: internal/hookserver (`deckhand hooks serve`,
// shell-operator mode) and internal/runtime (the module runtime, which adds
// values files through RunIO and its own task kinds through Options.Handle).
// Hooks of different owners or modules are kept apart by lanes: a hook's
// binding queue "main" runs in the engine queue named by the hook's lane.
//
// It must not import internal/hookserver, internal/runtime, internal/module,
// internal/values or anything above them: owners plug in through RunIO and
// Options.
package engine
