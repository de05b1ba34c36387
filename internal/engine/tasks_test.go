package engine

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/metrics"
	"github.com/deckhand-dev/deckhand/internal/queue"
	"github.com/deckhand-dev/deckhand/internal/schedule"
)

func TestCombineRuns(t *testing.T) {
	v1 := &Hook{Hook: hook.Hook{Name: "a.sh", Config: hook.Config{Version: hook.ConfigV1}}}
	v0 := &Hook{Hook: hook.Hook{Name: "old.sh", Config: hook.Config{Version: hook.ConfigV0}}}
	cms := hook.KubernetesBinding{Name: "cms", Queue: "main", Watch: hook.WatchSpec{JqFilter: ".data"}}
	grouped := hook.KubernetesBinding{Name: "g1", Queue: "main", Group: "g"}
	grouped2 := hook.KubernetesBinding{Name: "g2", Queue: "main", Group: "g"}
	ev := func(h *Hook, b hook.KubernetesBinding) queue.Task {
		return RunTask(h, b.Name, false, b.EventContext(hook.WatchEventAdded, nil))
	}
	contexts := func(tk queue.Task) []string {
		var out []string
		for _, bc := range tk.Payload.(*runPayload).contexts {
			out = append(out, bc.Binding+":"+string(bc.Type))
		}
		return out
	}

	merged, ok := Combine(ev(v1, cms), ev(v1, cms))
	if !ok || !slices.Equal(contexts(merged), []string{"cms:Event", "cms:Event"}) {
		t.Fatalf("two events of one hook: ok=%v %v", ok, contexts(merged))
	}
	if _, ok := Combine(ev(v1, cms), ev(v0, cms)); ok {
		t.Fatal("runs of different hooks combined")
	}
	if _, ok := Combine(ev(v0, cms), ev(v0, cms)); ok {
		t.Fatal("v0 hook runs combined")
	}
	sync := RunTask(v1, cms.Name, false, cms.SynchronizationContext("a.sh#cms"), "a.sh#cms")
	if _, ok := Combine(sync, ev(v1, cms)); ok {
		t.Fatal("an ungrouped Synchronization started a combined run")
	}
	// A grouped Synchronization combines; compaction keeps the last context of
	// the group, but the watch to unlock is kept.
	gsync := RunTask(v1, grouped.Name, false, grouped.SynchronizationContext("a.sh#g1"), "a.sh#g1")
	merged, ok = Combine(gsync, RunTask(v1, grouped2.Name, false, grouped2.SynchronizationContext("a.sh#g2"), "a.sh#g2"))
	if !ok {
		t.Fatal("grouped Synchronizations not combined")
	}
	p := merged.Payload.(*runPayload)
	if len(p.contexts) != 1 || p.contexts[0].Binding != "g2" || !slices.Equal(p.monitorIDs, []string{"a.sh#g1", "a.sh#g2"}) {
		t.Fatalf("combined grouped sync: contexts %v monitors %v", contexts(merged), p.monitorIDs)
	}
	if _, ok := Combine(queue.Task{Kind: KindEnableKubernetes, Subject: "a.sh"}, ev(v1, cms)); ok {
		t.Fatal("an enable task combined with a run")
	}
}

// A combined run is retried (not dropped on failure) as soon as one of its
// parts does not allow failure.
func TestCombineRunsAllowFailure(t *testing.T) {
	h := &Hook{Hook: hook.Hook{Name: "a.sh", Config: hook.Config{Version: hook.ConfigV1}}}
	b := hook.KubernetesBinding{Name: "cms", Queue: "main"}
	ev := func(allow bool) queue.Task {
		return RunTask(h, b.Name, allow, b.EventContext(hook.WatchEventAdded, nil))
	}
	for _, c := range []struct{ head, next, want bool }{
		{true, true, true}, {true, false, false}, {false, true, false}, {false, false, false},
	} {
		merged, ok := Combine(ev(c.head), ev(c.next))
		if !ok {
			t.Fatalf("head %v next %v: not combined", c.head, c.next)
		}
		if merged.AllowFailure != c.want {
			t.Errorf("head allowFailure %v + next %v = %v, want %v", c.head, c.next, merged.AllowFailure, c.want)
		}
	}
}

// The scheduler calls onTick from one goroutine per firing: concurrent
// ticks each queue their run (run with -race to check the locking).
func TestConcurrentTicks(t *testing.T) {
	m, err := metrics.NewRuntime(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	h := &Hook{Hook: hook.Hook{Name: "tick.sh", Config: hook.Config{Version: hook.ConfigV1, Schedules: []hook.ScheduleBinding{
		{Name: "fast", Crontab: "* * * * * *", Queue: "main"},
		{Name: "other", Crontab: "*/2 * * * * *", Queue: "lane"},
	}}}}
	e := &Engine{opts: Options{Metrics: m}, byName: map[string]*Hook{h.Name: h}, queues: queue.NewSet(func(context.Context, string, queue.Task) error { return nil })}
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { e.onTick(schedule.Tick{Hook: h.Name, Bindings: []string{"fast"}, Crontab: "* * * * * *"}) })
		wg.Go(func() { e.onTick(schedule.Tick{Hook: h.Name, Bindings: []string{"other"}, Crontab: "*/2 * * * * *"}) })
	}
	wg.Wait()
	lengths := map[string]int{}
	for _, st := range e.queues.Status() {
		lengths[st.Name] = st.Length
	}
	if lengths["main"] != n || lengths["lane"] != n {
		t.Fatalf("queued runs = %v, want %d in main and in lane", lengths, n)
	}
}
