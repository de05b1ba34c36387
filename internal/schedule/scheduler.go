package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Tick says that the given bindings of one hook are due.
type Tick struct {
	Hook     string
	Bindings []string
	Crontab  string
	Time     time.Time
}

// Scheduler runs one cron engine for all schedule bindings.
type Scheduler struct {
	onTick func(Tick)
	log    *slog.Logger

	mu      sync.Mutex
	cron    *cron.Cron
	entries map[string]*entry // by crontab
	started bool
	stop    context.CancelFunc
	done    chan struct{}
}

type entry struct {
	id       cron.EntryID
	bindings map[string][]string // hook -> binding names, in Add order
}

// Option configures a Scheduler.
type Option func(*schedulerOptions)

type schedulerOptions struct {
	loc *time.Location
	log *slog.Logger
}

// WithLocation sets the time zone for crontabs without a TZ= prefix (default: local).
func WithLocation(loc *time.Location) Option { return func(o *schedulerOptions) { o.loc = loc } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *schedulerOptions) { o.log = l } }

// New returns a stopped Scheduler that calls onTick once per hook whenever
// a crontab fires. robfig/cron runs every firing in its own goroutine, so
// onTick may run concurrently with itself (different crontabs, or a late
// firing overlapping the next): it must be safe for that and should only
// enqueue work. Within one firing the ticks come in hook name order.
func New(onTick func(Tick), opts ...Option) *Scheduler {
	o := schedulerOptions{loc: time.Local, log: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	return &Scheduler{
		onTick:  onTick,
		log:     o.log,
		cron:    cron.New(cron.WithParser(parser), cron.WithLocation(o.loc)),
		entries: map[string]*entry{},
	}
}

// Add registers binding of hook with crontab. Bindings sharing a crontab
// share one cron entry. It may be called before or after Start.
func (s *Scheduler) Add(hook, binding, crontab string) error {
	sched, err := Parse(crontab)
	if err != nil {
		return fmt.Errorf("hook %q binding %q: %w", hook, binding, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[crontab]
	if !ok {
		e = &entry{bindings: map[string][]string{}}
		e.id = s.cron.Schedule(sched, cron.FuncJob(func() { s.fire(crontab) }))
		s.entries[crontab] = e
	}
	if !slices.Contains(e.bindings[hook], binding) {
		e.bindings[hook] = append(e.bindings[hook], binding)
	}
	return nil
}

// RemoveHook drops all bindings of hook; entries left without bindings are removed.
func (s *Scheduler) RemoveHook(hook string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for crontab, e := range s.entries {
		delete(e.bindings, hook)
		if len(e.bindings) == 0 {
			s.cron.Remove(e.id)
			delete(s.entries, crontab)
		}
	}
}

func (s *Scheduler) fire(crontab string) {
	now := time.Now()
	s.mu.Lock()
	e, ok := s.entries[crontab]
	var ticks []Tick
	if ok {
		for hook, bindings := range e.bindings {
			ticks = append(ticks, Tick{Hook: hook, Bindings: slices.Clone(bindings), Crontab: crontab, Time: now})
		}
	}
	s.mu.Unlock()
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].Hook < ticks[j].Hook })
	for _, t := range ticks {
		s.log.Debug("schedule fired", "hook", t.Hook, "bindings", t.Bindings, "crontab", crontab)
		s.onTick(t)
	}
}

// Start runs the engine until ctx is cancelled or Stop is called.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	ctx, s.stop = context.WithCancel(ctx)
	s.done = make(chan struct{})
	s.cron.Start()
	go func() {
		defer close(s.done)
		<-ctx.Done()
		<-s.cron.Stop().Done()
	}()
}

// Stop stops the engine and waits for running tick callbacks to return.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	<-done
}
