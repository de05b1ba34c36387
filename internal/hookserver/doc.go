// Package hookserver is deckhand's standalone shell-operator mode: it loads
// the hooks of one directory, runs onStartup hooks in order, starts the
// kubernetes monitors and schedules of the hooks, and runs every binding
// context through named queues (internal/queue), applying each successful
// run's KUBERNETES_PATCH_PATH operations and METRICS_PATH metrics. It serves
// /metrics, /healthz, /readyz and JSON debug endpoints, and with leader
// election only the Lease holder runs hooks.
//
// It wires internal/hook, internal/kube, internal/queue, internal/schedule and
// internal/metrics together; it must not import internal/runtime,
// internal/module, internal/release or cmd.
package hookserver
