// Package hookserver is deckhand's standalone shell-operator mode: it loads
// the hooks of one directory and hands them to the hook engine
// (internal/engine) with shell-operator's startup order: onStartup hooks in
// order, then the kubernetes monitors and schedules of each hook. It serves
// /metrics, /healthz, /readyz and JSON debug endpoints, and with leader
// election only the Lease holder runs hooks.
//
// It wires internal/engine, internal/hook, internal/kube and internal/metrics
// together; it must not import internal/runtime,
// internal/module, internal/release or cmd.
package hookserver
