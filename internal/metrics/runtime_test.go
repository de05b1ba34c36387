package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRuntimeMetricNames(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	r, err := NewRuntime(reg, WithQueues(func() []QueueState {
		return []QueueState{{Name: "main", Length: 2, Hook: "stuck.sh", Failures: 4}, {Name: "idle"}}
	}), WithSnapshots(func() []SnapshotState {
		return []SnapshotState{{Hook: "a.sh", Binding: "pods", Objects: 12}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	r.HookRunSeconds.WithLabelValues("a.sh", "schedule", "main").Observe(0.3)
	r.HookRunErrors.WithLabelValues("a.sh", "schedule", "main").Inc()
	r.EventsReceived.WithLabelValues("a.sh", "pods", "Added").Inc()
	r.HookConfigErrors.WithLabelValues("broken.sh").Set(1)
	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP deckhand_tasks_queue_length Tasks in the queue, including the running one.
# TYPE deckhand_tasks_queue_length gauge
deckhand_tasks_queue_length{queue="idle"} 0
deckhand_tasks_queue_length{queue="main"} 2
# HELP deckhand_tasks_queue_head_failures Consecutive failures of the task at the head of the queue; the hook label names the stuck hook.
# TYPE deckhand_tasks_queue_head_failures gauge
deckhand_tasks_queue_head_failures{hook="",queue="idle"} 0
deckhand_tasks_queue_head_failures{hook="stuck.sh",queue="main"} 4
# HELP deckhand_hook_run_errors_total Failed hook runs that will be retried.
# TYPE deckhand_hook_run_errors_total counter
deckhand_hook_run_errors_total{binding="schedule",hook="a.sh",queue="main"} 1
# HELP deckhand_events_received_total Events received for hook bindings (kubernetes events, synchronizations, schedule ticks).
# TYPE deckhand_events_received_total counter
deckhand_events_received_total{binding="pods",hook="a.sh",type="Added"} 1
# HELP deckhand_kube_snapshot_objects Objects kept in the snapshot of a kubernetes binding.
# TYPE deckhand_kube_snapshot_objects gauge
deckhand_kube_snapshot_objects{binding="pods",hook="a.sh"} 12
# HELP deckhand_hook_config_errors 1 while the hook's --config output is broken, else 0.
# TYPE deckhand_hook_config_errors gauge
deckhand_hook_config_errors{hook="broken.sh"} 1
`), "deckhand_tasks_queue_length", "deckhand_tasks_queue_head_failures", "deckhand_hook_run_errors_total", "deckhand_events_received_total", "deckhand_hook_config_errors", "deckhand_kube_snapshot_objects")
	if err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(r.HookRunSeconds, "deckhand_hook_run_seconds"); n != 1 {
		t.Fatalf("hook_run_seconds series = %d", n)
	}
}

func TestRuntimeShellOperatorPrefix(t *testing.T) {
	reg := prometheus.NewRegistry()
	r, err := NewRuntime(reg, WithPrefix("shell_operator_"))
	if err != nil {
		t.Fatal(err)
	}
	r.HookRunSuccess.WithLabelValues("h", "b", "q").Inc()
	if n, err := testutil.GatherAndCount(reg, "shell_operator_hook_run_success_total"); err != nil || n != 1 {
		t.Fatalf("count = %d, err = %v", n, err)
	}
	if _, err := NewRuntime(reg, WithPrefix("shell_operator_")); err == nil {
		t.Fatal("registering twice succeeded")
	}
}
