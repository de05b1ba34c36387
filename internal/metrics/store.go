package metrics

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// kind is the Prometheus type a hook metric name is bound to by its first use.
type kind int

const (
	kindGauge kind = iota
	kindCounter
	kindHistogram
)

func (k kind) String() string {
	return [...]string{"gauge", "counter", "histogram"}[k]
}

func kindOf(action string) kind {
	switch action {
	case ActionAdd:
		return kindCounter
	case ActionObserve:
		return kindHistogram
	}
	return kindGauge
}

// Store holds the metrics hooks reported and exposes them as a
// prometheus.Collector. Apply is all-or-nothing.
type Store struct {
	hookLabel  string
	accumulate bool

	mu       sync.RWMutex
	families map[string]*family
}

type family struct {
	kind   kind
	series map[string]*series // by label signature
}

type series struct {
	labels  map[string]string
	group   string
	value   float64
	buckets []float64
	counts  []uint64 // non-cumulative per bucket
	sum     float64
	count   uint64
}

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithAccumulatingUngrouped keeps operations without a "group" out of the
// per-hook default group, so counters accumulate across runs (shell-operator
// before v1.11). By default an ungrouped operation belongs to the group named
// after the hook, and each run replaces that hook's previous series, as
// shell-operator does today.
func WithAccumulatingUngrouped() StoreOption { return func(s *Store) { s.accumulate = true } }

// WithHookLabel changes the label naming the hook (default "hook").
func WithHookLabel(name string) StoreOption { return func(s *Store) { s.hookLabel = name } }

// NewStore returns an empty Store.
func NewStore(opts ...StoreOption) *Store {
	s := &Store{hookLabel: "hook", families: map[string]*family{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Apply applies one run's operations for hook: every group present in ops
// (an ungrouped operation's group is the hook name) loses its previous series
// first, then the operations are applied in order. extraLabels (for example
// module) are added to every series. On error nothing changes.
func (s *Store) Apply(hook string, ops []Operation, extraLabels map[string]string) error {
	if len(ops) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := s.nextLocked(hook, ops, extraLabels)
	if err != nil {
		return err
	}
	s.families = next.families
	return nil
}

// Check reports the error Apply would return, without changing anything; a
// runtime calls it before applying a hook's other outputs.
func (s *Store) Check(hook string, ops []Operation, extraLabels map[string]string) error {
	if len(ops) == 0 {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, err := s.nextLocked(hook, ops, extraLabels)
	return err
}

// nextLocked computes the state after applying ops on a copy.
func (s *Store) nextLocked(hook string, ops []Operation, extraLabels map[string]string) (*storeState, error) {
	next := s.cloneLocked()
	groups := map[string]bool{}
	for _, op := range ops {
		if g := s.groupOf(hook, op); g != "" {
			groups[g] = true
		}
	}
	for name, f := range next.families {
		for sig, se := range f.series {
			if se.group != "" && groups[se.group] {
				delete(f.series, sig)
			}
		}
		if len(f.series) == 0 {
			delete(next.families, name)
		}
	}
	for _, op := range ops {
		if op.Action == ActionExpire {
			continue
		}
		if err := next.applyOne(s.groupOf(hook, op), op, s.labelsFor(hook, op, extraLabels)); err != nil {
			return nil, fmt.Errorf("hook %q: line %d: %w", hook, op.Line, err)
		}
	}
	return next, nil
}

func (s *Store) groupOf(hook string, op Operation) string {
	if op.Group != "" || s.accumulate {
		return op.Group
	}
	return hook
}

func (s *Store) labelsFor(hook string, op Operation, extra map[string]string) map[string]string {
	l := make(map[string]string, len(op.Labels)+len(extra)+1)
	maps.Copy(l, op.Labels)
	maps.Copy(l, extra)
	l[s.hookLabel] = hook
	return l
}

type storeState struct{ families map[string]*family }

func (s *Store) cloneLocked() *storeState {
	out := &storeState{families: make(map[string]*family, len(s.families))}
	for name, f := range s.families {
		nf := &family{kind: f.kind, series: make(map[string]*series, len(f.series))}
		for sig, se := range f.series {
			c := *se
			c.counts = slices.Clone(se.counts)
			nf.series[sig] = &c
		}
		out.families[name] = nf
	}
	return out
}

func (st *storeState) applyOne(group string, op Operation, labels map[string]string) error {
	k := kindOf(op.Action)
	f, ok := st.families[op.Name]
	if !ok {
		f = &family{kind: k, series: map[string]*series{}}
		st.families[op.Name] = f
	}
	if f.kind != k {
		return fmt.Errorf("metric %q is a %s, action %q needs a %s", op.Name, f.kind, op.Action, k)
	}
	sig := signature(labels)
	se, ok := f.series[sig]
	if !ok {
		se = &series{labels: labels, group: group}
		if k == kindHistogram {
			se.buckets = slices.Clone(op.Buckets)
			se.counts = make([]uint64, len(op.Buckets))
		}
		f.series[sig] = se
	}
	se.group = group
	switch op.Action {
	case ActionSet:
		se.value = *op.Value
	case ActionAdd:
		se.value += *op.Value
	case ActionObserve:
		v := *op.Value
		se.sum += v
		se.count++
		if i := sort.SearchFloat64s(se.buckets, v); i < len(se.buckets) {
			se.counts[i]++
		}
	}
	return nil
}

func signature(labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(labels[k])
		b.WriteByte(0)
	}
	return b.String()
}

// Describe sends nothing: hook metrics are dynamic, so the Store is an
// unchecked collector.
func (s *Store) Describe(chan<- *prometheus.Desc) {}

// Collect sends every stored series.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for name, f := range s.families {
		for _, se := range f.series {
			keys := slices.Sorted(maps.Keys(se.labels))
			vals := make([]string, len(keys))
			for i, k := range keys {
				vals[i] = se.labels[k]
			}
			desc := prometheus.NewDesc(name, "Metric reported by a hook through $METRICS_PATH.", keys, nil)
			var m prometheus.Metric
			var err error
			switch f.kind {
			case kindGauge:
				m, err = prometheus.NewConstMetric(desc, prometheus.GaugeValue, se.value, vals...)
			case kindCounter:
				m, err = prometheus.NewConstMetric(desc, prometheus.CounterValue, se.value, vals...)
			case kindHistogram:
				cum := make(map[float64]uint64, len(se.buckets))
				var acc uint64
				for i, b := range se.buckets {
					acc += se.counts[i]
					cum[b] = acc
				}
				m, err = prometheus.NewConstHistogram(desc, se.count, se.sum, cum, vals...)
			}
			if err != nil {
				m = prometheus.NewInvalidMetric(desc, err)
			}
			ch <- m
		}
	}
}

// Series returns the number of stored series (for tests and debug output).
func (s *Store) Series() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, f := range s.families {
		n += len(f.series)
	}
	return n
}
