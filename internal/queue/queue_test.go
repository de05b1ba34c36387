package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder collects handler calls in order.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fastBackoff(int) time.Duration { return 10 * time.Millisecond }

func TestFIFOWithinQueue(t *testing.T) {
	rec := &recorder{}
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		rec.add(q + ":" + tk.Subject)
		return nil
	})
	for i := range 5 {
		s.Add("main", Task{Subject: fmt.Sprint(i)})
	}
	s.Start(t.Context())
	defer s.Stop()
	waitUntil(t, "5 runs", func() bool { return len(rec.get()) == 5 })
	want := []string{"main:0", "main:1", "main:2", "main:3", "main:4"}
	if got := rec.get(); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestFailingTaskBlocksOnlyItsQueue(t *testing.T) {
	rec := &recorder{}
	var mu sync.Mutex
	attempts := 0
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		if tk.Subject == "broken" {
			mu.Lock()
			defer mu.Unlock()
			attempts++
			if attempts < 3 {
				return errors.New("exit status 1")
			}
		}
		rec.add(q + ":" + tk.Subject)
		return nil
	}, WithBackoff(func(n int) time.Duration { return 50 * time.Millisecond }))
	s.Add("a", Task{Subject: "broken"})
	s.Add("a", Task{Subject: "after-broken"})
	for i := range 3 {
		s.Add("b", Task{Subject: fmt.Sprint("b", i)})
	}
	s.Start(t.Context())
	defer s.Stop()

	waitUntil(t, "queue b to drain while a retries", func() bool {
		return slices.Contains(rec.get(), "b:b2")
	})
	waitUntil(t, "broken to succeed on 3rd attempt and queue a to continue", func() bool {
		return slices.Contains(rec.get(), "a:after-broken")
	})
	got := rec.get()
	ia, ib := slices.Index(got, "a:broken"), slices.Index(got, "a:after-broken")
	if ia < 0 || ib < ia {
		t.Fatalf("queue a order broken: %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 3 {
		t.Fatalf("attempts = %d, want 3", attempts)
	}
}

func TestStatusShowsStuckHook(t *testing.T) {
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		if tk.Subject == "stuck.sh" {
			return errors.New("jq: error: cannot iterate over null")
		}
		return nil
	}, WithBackoff(func(int) time.Duration { return time.Hour }))
	s.Add("main", Task{Subject: "stuck.sh", Kind: "HookRun", Description: "schedule"})
	s.Add("main", Task{Subject: "next.sh", Kind: "HookRun"})
	s.Ensure("idle")
	s.Start(t.Context())
	defer s.Stop()
	waitUntil(t, "failure recorded", func() bool {
		for _, st := range s.Status() {
			if st.Name == "main" && st.Failures == 1 {
				return true
			}
		}
		return false
	})
	st := s.Status()
	if len(st) != 2 || st[0].Name != "idle" || st[1].Name != "main" {
		t.Fatalf("status queues = %+v", st)
	}
	m := st[1]
	if m.Length != 2 || m.Current == nil || m.Current.Subject != "stuck.sh" || m.Current.Kind != "HookRun" {
		t.Fatalf("main status = %+v", m)
	}
	if !strings.Contains(m.LastError, "cannot iterate") || m.RetryAt == nil || time.Until(*m.RetryAt) < 30*time.Minute {
		t.Fatalf("main failure fields = %+v", m)
	}
	if got := s.Lengths(); got["main"] != 2 || got["idle"] != 0 {
		t.Fatalf("lengths = %v", got)
	}
}

func TestAllowFailureIsNotRetried(t *testing.T) {
	rec := &recorder{}
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		rec.add(tk.Subject)
		if tk.Subject == "flaky" {
			return errors.New("boom")
		}
		return nil
	}, WithBackoff(fastBackoff))
	s.Add("main", Task{Subject: "flaky", AllowFailure: true})
	s.Add("main", Task{Subject: "ok"})
	s.Start(t.Context())
	defer s.Stop()
	waitUntil(t, "ok to run", func() bool { return slices.Contains(rec.get(), "ok") })
	if got := rec.get(); !slices.Equal(got, []string{"flaky", "ok"}) {
		t.Fatalf("calls = %v, want flaky once then ok", got)
	}
	if st := s.Status()[0]; st.Failures != 0 || st.LastError != "" || st.Length != 0 {
		t.Fatalf("status after allowed failure = %+v", st)
	}
}

func TestPanicIsRetried(t *testing.T) {
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			panic("nil map")
		}
		close(done)
		return nil
	}, WithBackoff(fastBackoff))
	s.Add("main", Task{Subject: "p"})
	s.Start(t.Context())
	defer s.Stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("panicking task was not retried")
	}
}

func TestCombineMergesConsecutiveTasksOfSameHook(t *testing.T) {
	type payload []string
	rec := &recorder{}
	gate := make(chan struct{})
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		if tk.Subject == "gate" {
			<-gate
			return nil
		}
		rec.add(tk.Subject + "=" + strings.Join(tk.Payload.(payload), ","))
		return nil
	}, WithCombine(func(head, next Task) (Task, bool) {
		if head.Subject != next.Subject || head.Subject == "gate" {
			return head, false
		}
		head.Payload = append(slices.Clone(head.Payload.(payload)), next.Payload.(payload)...)
		return head, true
	}))
	s.Add("main", Task{Subject: "gate"})
	s.Start(t.Context())
	defer s.Stop()
	waitUntil(t, "gate to run", func() bool {
		st := s.Status()
		return len(st) == 1 && st[0].Current != nil && st[0].Current.Running
	})
	s.Add("main", Task{Subject: "h1", Payload: payload{"a"}})
	s.Add("main", Task{Subject: "h1", Payload: payload{"b"}})
	s.Add("main", Task{Subject: "h1", Payload: payload{"c"}})
	s.Add("main", Task{Subject: "h2", Payload: payload{"d"}})
	s.Add("main", Task{Subject: "h1", Payload: payload{"e"}})
	close(gate)
	waitUntil(t, "three runs", func() bool { return len(rec.get()) == 3 })
	want := []string{"h1=a,b,c", "h2=d", "h1=e"}
	if got := rec.get(); !slices.Equal(got, want) {
		t.Fatalf("runs = %v, want %v", got, want)
	}
}

func TestAddFirstRunsBeforeQueuedTasks(t *testing.T) {
	rec := &recorder{}
	gate := make(chan struct{})
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		if tk.Subject == "enable" {
			<-gate
		}
		rec.add(tk.Subject)
		return nil
	})
	s.Add("main", Task{Subject: "enable"})
	s.Add("main", Task{Subject: "later"})
	s.Start(t.Context())
	defer s.Stop()
	waitUntil(t, "enable running", func() bool {
		st := s.Status()
		return st[0].Current != nil && st[0].Current.Running
	})
	s.AddFirst("main", Task{Subject: "sync2"})
	s.AddFirst("main", Task{Subject: "sync1"})
	close(gate)
	waitUntil(t, "all runs", func() bool { return len(rec.get()) == 4 })
	if got, want := rec.get(), []string{"enable", "sync1", "sync2", "later"}; !slices.Equal(got, want) {
		t.Fatalf("runs = %v, want %v", got, want)
	}
}

func TestStopEndsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	started := make(chan struct{})
	var sawCancel sync.WaitGroup
	sawCancel.Add(1)
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		if tk.Subject == "long" {
			close(started)
			<-ctx.Done()
			sawCancel.Done()
			return ctx.Err()
		}
		return errors.New("always failing")
	}, WithBackoff(func(int) time.Duration { return time.Hour }))
	s.Start(context.Background())
	s.Add("running", Task{Subject: "long"})
	s.Add("retrying", Task{Subject: "bad"})
	for i := range 8 {
		s.Ensure(fmt.Sprint("idle-", i))
	}
	<-started
	waitUntil(t, "retrying queue to wait for its retry", func() bool {
		for _, st := range s.Status() {
			if st.Name == "retrying" && st.RetryAt != nil {
				return true
			}
		}
		return false
	})
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return")
	}
	sawCancel.Wait()
	waitGoroutines(t, before)
	// Queues created after Stop get no worker: the count settles at the
	// baseline again (a started worker would block there forever).
	s.Add("late", Task{Subject: "x"})
	waitGoroutines(t, before)
}

// waitGoroutines polls until no more goroutines run than the baseline, with
// a generous bound for a loaded machine (runtime or test goroutines of
// other tests may still be winding down, so it never demands equality).
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines = %d, want at most %d (the count before Start)", runtime.NumGoroutine(), baseline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExponentialBackoffShape(t *testing.T) {
	b := ExponentialBackoff(5*time.Second, 32*time.Second)
	if d := b(1); d != 5*time.Second {
		t.Fatalf("first retry = %v, want 5s", d)
	}
	if d := b(2); d < 7*time.Second || d >= 8*time.Second {
		t.Fatalf("second retry = %v, want in [7s,8s)", d)
	}
	if d := b(3); d < 9*time.Second || d >= 10*time.Second {
		t.Fatalf("third retry = %v, want in [9s,10s)", d)
	}
	for n := 6; n < 100; n += 10 {
		if d := b(n); d != 32*time.Second {
			t.Fatalf("retry %d = %v, want cap 32s", n, d)
		}
	}
}

func TestAddFirstEndsRetryWait(t *testing.T) {
	rec := &recorder{}
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		rec.add(tk.Subject)
		if tk.Subject == "bad" {
			return errors.New("failing")
		}
		return nil
	}, WithBackoff(func(int) time.Duration { return time.Hour }))
	s.Add("main", Task{Subject: "bad"})
	s.Start(t.Context())
	defer s.Stop()
	waitUntil(t, "bad to wait for its retry", func() bool { return s.Status()[0].RetryAt != nil })
	s.Add("main", Task{Subject: "tail"})
	s.AddFirst("main", Task{Subject: "urgent"})
	waitUntil(t, "urgent to run during the retry wait", func() bool { return slices.Contains(rec.get(), "urgent") })
	got := rec.get()
	if got[0] != "bad" || got[1] != "urgent" || slices.Contains(got, "tail") {
		t.Fatalf("runs = %v, want bad, urgent, then bad again before tail", got)
	}
}

// The handler sees which attempt a run is: 1, then 2, 3 after failures, and
// 1 again for the next task.
func TestAttemptCountsRetries(t *testing.T) {
	rec := &recorder{}
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		rec.add(fmt.Sprint(tk.Subject, "#", tk.Attempt))
		if tk.Subject == "flaky" && tk.Attempt < 3 {
			return errors.New("not yet")
		}
		return nil
	}, WithBackoff(fastBackoff))
	s.Add("main", Task{Subject: "flaky"})
	s.Add("main", Task{Subject: "next"})
	s.Start(t.Context())
	defer s.Stop()
	waitUntil(t, "next to run", func() bool { return len(rec.get()) == 4 })
	if got, want := rec.get(), []string{"flaky#1", "flaky#2", "flaky#3", "next#1"}; !slices.Equal(got, want) {
		t.Fatalf("attempts = %v, want %v", got, want)
	}
}

// A burst of tasks of one subject added while the queue is busy waits as one
// task (combined as it is added), never merged into the running task; the
// handler still gets every payload, in order.
func TestCombineOnAddKeepsOnePendingTask(t *testing.T) {
	type payload []string
	rec := &recorder{}
	release := make(chan struct{})
	s := NewSet(func(ctx context.Context, q string, tk Task) error {
		p := tk.Payload.(payload)
		if p[0] == "block" {
			<-release
		}
		rec.add(strings.Join(p, ","))
		return nil
	}, WithCombine(func(head, next Task) (Task, bool) {
		if head.Subject != next.Subject {
			return head, false
		}
		head.Payload = append(slices.Clone(head.Payload.(payload)), next.Payload.(payload)...)
		return head, true
	}))
	s.Start(t.Context())
	defer s.Stop()
	first := s.Add("main", Task{Subject: "h", Payload: payload{"block"}})
	waitUntil(t, "the first task to run", func() bool {
		st := s.Status()
		return len(st) == 1 && st[0].Current != nil && st[0].Current.Running
	})
	var ids []uint64
	for i := range 100 {
		ids = append(ids, s.Add("main", Task{Subject: "h", Payload: payload{fmt.Sprint(i)}}))
	}
	if ids[0] == first {
		t.Fatal("a task was combined into the running one")
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("Add returned IDs %v..., want one pending task for the burst", ids[:3])
		}
	}
	if l := s.Lengths()["main"]; l != 2 {
		t.Fatalf("queue length during the burst = %d, want 2 (running + one combined)", l)
	}
	s.Add("main", Task{Subject: "other", Payload: payload{"o"}})
	s.Add("main", Task{Subject: "h", Payload: payload{"after"}})
	if l := s.Lengths()["main"]; l != 4 {
		t.Fatalf("queue length = %d, want 4: another subject ends the combining", l)
	}
	close(release)
	waitUntil(t, "four runs", func() bool { return len(rec.get()) == 4 })
	var burst []string
	for i := range 100 {
		burst = append(burst, fmt.Sprint(i))
	}
	want := []string{"block", strings.Join(burst, ","), "o", "after"}
	if got := rec.get(); !slices.Equal(got, want) {
		t.Fatalf("runs = %v, want %v", got, want)
	}
}
