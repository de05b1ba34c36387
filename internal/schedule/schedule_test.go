package schedule

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseForms(t *testing.T) {
	base := time.Date(2026, 3, 10, 12, 0, 30, 0, time.UTC)
	cases := []struct {
		crontab string
		next    time.Time
	}{
		// 5 fields: minute precision, seconds 0.
		{"*/5 * * * *", time.Date(2026, 3, 10, 12, 5, 0, 0, time.UTC)},
		// 6 fields: seconds first.
		{"*/10 * * * * *", time.Date(2026, 3, 10, 12, 0, 40, 0, time.UTC)},
		{"15 30 12 * * *", time.Date(2026, 3, 10, 12, 30, 15, 0, time.UTC)},
		{"@every 1h30m", base.Add(90 * time.Minute)},
		{"@hourly", time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)},
		{"@daily", time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)},
		// 13:00 in Berlin (UTC+1 in March before DST) is 12:00 UTC; next is tomorrow.
		{"TZ=Europe/Berlin 0 0 13 * * *", time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)},
		{"CRON_TZ=Asia/Tokyo 0 22 * * *", time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		s, err := Parse(c.crontab)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.crontab, err)
		}
		if got := s.Next(base); !got.Equal(c.next) {
			t.Errorf("Parse(%q).Next = %v, want %v", c.crontab, got.UTC(), c.next)
		}
	}
}

func TestParseErrorsNameTheCrontab(t *testing.T) {
	for _, bad := range []string{"", "* * *", "61 * * * *", "@sometimes", "TZ=Mars/Olympus * * * * *", "1 2 3 4 5 6 7"} {
		_, err := Parse(bad)
		if err == nil {
			t.Errorf("Parse(%q) accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), "crontab \""+bad+"\"") {
			t.Errorf("Parse(%q) error %q does not name the crontab", bad, err)
		}
	}
	s := New(func(Tick) {})
	err := s.Add("010-hook.sh", "nightly", "61 * * * *")
	if err == nil || !strings.Contains(err.Error(), `hook "010-hook.sh" binding "nightly"`) {
		t.Fatalf("Add error = %v, want hook and binding named", err)
	}
}

func TestTicksFanOutPerHook(t *testing.T) {
	var mu sync.Mutex
	var ticks []Tick
	s := New(func(tk Tick) {
		mu.Lock()
		ticks = append(ticks, tk)
		mu.Unlock()
	})
	for _, b := range []struct{ hook, binding, crontab string }{
		{"b.sh", "every-second", "* * * * * *"},
		{"a.sh", "first", "* * * * * *"},
		{"a.sh", "second", "* * * * * *"},
		{"a.sh", "first", "* * * * * *"}, // duplicate ignored
		{"c.sh", "hourly", "@hourly"},
	} {
		if err := s.Add(b.hook, b.binding, b.crontab); err != nil {
			t.Fatal(err)
		}
	}
	s.Start(t.Context())
	defer s.Stop()
	// robfig/cron fires each entry in its own goroutine, so ticks of
	// different firings may interleave: check them per hook, not by index.
	perHook := func() map[string][]Tick {
		mu.Lock()
		defer mu.Unlock()
		out := map[string][]Tick{}
		for _, tk := range ticks {
			out[tk.Hook] = append(out[tk.Hook], tk)
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := perHook()
		if len(got["a.sh"]) > 0 && len(got["b.sh"]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ticks of both a.sh and b.sh within 30s: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	got := perHook()
	// Each firing delivers one Tick per hook with all its due bindings.
	for _, tk := range got["a.sh"] {
		if !slices.Equal(tk.Bindings, []string{"first", "second"}) {
			t.Fatalf("a.sh tick = %+v", tk)
		}
	}
	for _, tk := range got["b.sh"] {
		if !slices.Equal(tk.Bindings, []string{"every-second"}) {
			t.Fatalf("b.sh tick = %+v", tk)
		}
	}
	if len(got["c.sh"]) > 0 {
		t.Fatalf("hourly hook fired: %+v", got["c.sh"])
	}
}

func TestRemoveHookStopsItsTicks(t *testing.T) {
	got := make(chan Tick, 100)
	s := New(func(tk Tick) { got <- tk })
	if err := s.Add("gone.sh", "s", "* * * * * *"); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("stays.sh", "s", "@every 1s"); err != nil {
		t.Fatal(err)
	}
	s.RemoveHook("gone.sh")
	if len(s.entries) != 1 {
		t.Fatalf("entries after RemoveHook = %d, want 1", len(s.entries))
	}
	s.Start(t.Context())
	defer s.Stop()
	select {
	case tk := <-got:
		if tk.Hook != "stays.sh" {
			t.Fatalf("tick for %q after RemoveHook", tk.Hook)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no tick")
	}
}

func TestStopEndsEngine(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	s := New(func(Tick) {})
	if err := s.Add("h", "b", "* * * * * *"); err != nil {
		t.Fatal(err)
	}
	s.Start(ctx)
	cancel()
	s.Stop()
	// Poll down to the baseline, never demanding equality: goroutines of
	// the runtime or earlier tests may still be winding down.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines = %d, want at most %d (the count before Start)", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
