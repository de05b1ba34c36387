// Package metrics owns deckhand's Prometheus metrics: the operations hooks
// write to $METRICS_PATH (parsed strictly, applied all-or-nothing to a Store
// that is a prometheus.Collector), and the hook runtime's own metrics
// (queue lengths, hook run durations, errors, events received, broken hook
// configs).
//
// Runtime metric names follow shell-operator's (tasks_queue_length,
// hook_run_seconds, hook_run_errors_total, ...) behind a prefix that defaults
// to "deckhand_"; WithPrefix("shell_operator_") gives shell-operator's exact
// names for existing dashboards. Hook metric names are used verbatim, as
// shell-operator does.
//
// It must not import other deckhand packages.
package metrics
