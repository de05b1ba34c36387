package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Monitor lists and watches what one WatchSpec selects, keeps a snapshot of
// the projected objects and hands events to a Handler: first one
// Synchronization with every object once all initial lists are complete,
// then Added/Modified/Deleted. A Modified (or repeated Added) whose checksum
// did not change is not delivered.
//
// Why reflectors and not informers: a client-go informer keeps every full
// object in its indexer, which is exactly the memory a binding with
// keepFullObjectsInMemory=false asks not to spend. A Reflector (client-go's
// own list/watch loop, with relist, bookmarks and backoff) writes into a
// store deckhand provides, so each object is reduced to its filter result
// the moment it arrives and the full object is garbage right after.
type Monitor struct {
	client  *Client
	spec    *compiledSpec
	handler Handler
	log     *slog.Logger

	jqLibraryPaths []string

	res    Resource
	pb     rest.Interface // the protobuf client of every source (nil: JSON), made once in Start
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	sources  map[string]*source // by namespace + "/" + name
	nsSynced bool               // the namespace watch (if any) was listed
	nsSource *source            // the namespace watch's error slot
	// dynamicNamespaces are the namespaces watched because their labels
	// match namespace.labelSelector.
	dynamicNamespaces map[string]bool
	// namespaceNames interns namespace names (see internLocked).
	namespaceNames map[string]string
	synced         bool  // Synchronization was queued
	err            error // fatal: the monitor stopped
	queue          []Event
	wake           chan struct{}
	syncedCh       chan struct{} // closed once the handler returned from Synchronization
	failedCh       chan struct{} // closed on a fatal error
	startOnce      sync.Once
}

// MonitorOption tunes a Monitor.
type MonitorOption func(*Monitor)

// WithJQLibraryPath adds directories searched for jq modules imported by
// the jqFilter (shell-operator's JQ_LIBRARY_PATH / --jq-library-path).
func WithJQLibraryPath(dirs ...string) MonitorOption {
	return func(m *Monitor) { m.jqLibraryPaths = append(m.jqLibraryPaths, dirs...) }
}

// WithLogger sets the logger for dropped events and watch errors.
func WithLogger(l *slog.Logger) MonitorOption {
	return func(m *Monitor) { m.log = l }
}

// NewMonitor checks spec (selectors, jq program) and returns a Monitor that
// is not started yet. handler may be nil (snapshot-only use).
func NewMonitor(client *Client, spec WatchSpec, handler Handler, opts ...MonitorOption) (*Monitor, error) {
	m := &Monitor{
		client:   client,
		handler:  handler,
		log:      slog.Default(),
		sources:  map[string]*source{},
		wake:     make(chan struct{}, 1),
		syncedCh: make(chan struct{}),
		failedCh: make(chan struct{}),
	}
	for _, o := range opts {
		o(m)
	}
	cs, err := compileSpec(spec, m.jqLibraryPaths)
	if err != nil {
		return nil, err
	}
	m.spec = cs
	return m, nil
}

// Start resolves the kind through discovery (an unknown kind, e.g. a CRD
// not installed yet, is an error) and starts the watches in goroutines that
// live until ctx is done or Stop is called. It does not wait for the
// initial lists: use Synced or WaitForSync.
func (m *Monitor) Start(ctx context.Context) error {
	res, err := m.client.Resolve(m.spec.spec.APIVersion, m.spec.spec.Kind)
	if err != nil {
		return fmt.Errorf("binding %q: %w", m.spec.spec.Name, err)
	}
	started := false
	m.startOnce.Do(func() {
		started = true
		m.res = res
		m.pb = m.client.protobuf.filteredClient(res, m.wireFilter())
		m.ctx, m.cancel = context.WithCancel(ctx)
		m.wg.Add(1)
		go m.dispatch()
		m.mu.Lock()
		defer m.mu.Unlock()
		namespaces := m.spec.namespaces
		if !res.Namespaced {
			namespaces = []string{""}
		}
		for _, ns := range namespaces {
			m.addSourcesLocked(ns)
		}
		if res.Namespaced && m.spec.nsByLabels {
			m.startNamespaceWatchLocked()
		} else {
			m.nsSynced = true
			m.maybeSyncedLocked()
		}
	})
	if !started {
		return fmt.Errorf("binding %q: monitor already started", m.spec.spec.Name)
	}
	return nil
}

// Resource is the resolved kind; valid after Start.
func (m *Monitor) Resource() Resource { return m.res }

// Synced is closed once Synchronization was handed to the handler and the
// handler returned.
func (m *Monitor) Synced() <-chan struct{} { return m.syncedCh }

// WaitForSync blocks until Synced, a fatal error (a jqFilter failing on the
// initial list), or ctx is done; then the error names the last list/watch
// error seen, if any.
func (m *Monitor) WaitForSync(ctx context.Context) error {
	select {
	case <-m.syncedCh:
		return nil
	case <-m.failedCh:
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.err
	case <-ctx.Done():
		m.mu.Lock()
		defer m.mu.Unlock()
		var last error
		if m.nsSource != nil {
			last = m.nsSource.lastErr
		}
		for _, s := range m.sources {
			if s.lastErr != nil {
				last = s.lastErr
			}
		}
		if last != nil {
			return fmt.Errorf("binding %q: waiting for synchronization: %w; last API error: %w", m.spec.spec.Name, ctx.Err(), last)
		}
		return fmt.Errorf("binding %q: waiting for synchronization: %w", m.spec.spec.Name, ctx.Err())
	}
}

// Stop ends every watch and the event dispatcher and waits for them.
// Events not yet handed to the handler are dropped.
func (m *Monitor) Stop() {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
}

// Snapshot returns every kept object, sorted by namespace then name.
func (m *Monitor) Snapshot() []ObjectAndFilterResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshotLocked()
}

// Len is the number of objects kept.
func (m *Monitor) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.sources {
		n += len(s.entries)
	}
	return n
}

func (m *Monitor) snapshotLocked() []ObjectAndFilterResult {
	var all []*entry
	for _, s := range m.sources {
		for _, e := range s.entries {
			all = append(all, e)
		}
	}
	slices.SortFunc(all, func(a, b *entry) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	})
	out := make([]ObjectAndFilterResult, len(all))
	for i, e := range all {
		out[i] = e.item()
	}
	return out
}

// addSourcesLocked starts one list+watch per name in namespace ns.
func (m *Monitor) addSourcesLocked(ns string) {
	for _, name := range m.spec.names {
		key := ns + "/" + name
		if _, ok := m.sources[key]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(m.ctx)
		src := &source{namespace: ns, name: name, entries: map[objKey]*entry{}, cancel: cancel}
		m.sources[key] = src
		store := sourceStore{m: m, src: src}
		lw := m.objectListWatch(store, ns, m.spec.labelSelector, m.spec.fieldSelectorFor(name))
		r := cache.NewReflectorWithOptions(lw, &projected{}, store,
			cache.ReflectorOptions{Name: fmt.Sprintf("deckhand binding %q %s ns=%q name=%q", m.spec.spec.Name, m.res.GVR.Resource, ns, name)})
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			r.RunWithContext(ctx)
		}()
	}
}

// removeSourcesLocked stops the watches of namespace ns and delivers its
// objects as Deleted: they left the binding's scope.
func (m *Monitor) removeSourcesLocked(ns string) {
	for key, src := range m.sources {
		if src.namespace != ns {
			continue
		}
		src.cancel()
		src.stopped = true
		delete(m.sources, key)
		delete(m.namespaceNames, ns)
		for _, k := range sortedKeys(src.entries) {
			m.emitLocked(WatchDeleted, src.entries[k])
		}
	}
}

// objectListWatch is the list+watch of a source: built-in kinds go over
// protobuf when that is safe (see protobufWire), everything else over JSON.
// Watched objects reach the reflector already projected (see
// projectingWatch); listed ones are projected by the store.
func (m *Monitor) objectListWatch(store sourceStore, ns, labelSel, fieldSel string) *cache.ListWatch {
	var lw *cache.ListWatch
	if rc := m.pb; rc != nil {
		tweak := func(o *metav1.ListOptions) {
			o.LabelSelector = labelSel
			o.FieldSelector = fieldSel
		}
		lw = protobufListWatch(rc, m.res, ns, tweak, m.noteError(store.src))
	} else {
		lw = m.listWatch(store.src, m.client.resourceClient(m.res, ns), labelSel, fieldSel)
	}
	watchFunc := lw.WatchFuncWithContext
	lw.WatchFuncWithContext = func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		w, err := watchFunc(ctx, o)
		if err != nil {
			return nil, err
		}
		return newProjectingWatch(ctx, w, store.projectObject), nil
	}
	return lw
}

// wireFilter plans what of each watched object's protobuf the jqFilter
// never reads (nil: decode everything).
func (m *Monitor) wireFilter() *wireFilter {
	if m.spec.pruner == nil {
		return nil
	}
	obj, err := scheme.Scheme.New(m.gvk())
	if err != nil {
		return nil
	}
	return newWireFilter(m.gvk(), obj, m.spec.pruner.reads)
}

// noteError remembers the last API error of src for WaitForSync.
func (m *Monitor) noteError(src *source) func(error) {
	return func(err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			m.mu.Lock()
			src.lastErr = err
			m.mu.Unlock()
		}
	}
}

// listWatch lists and watches JSON with the binding's selectors, remembering
// the last API error for WaitForSync.
func (m *Monitor) listWatch(src *source, rc dynamic.ResourceInterface, labelSel, fieldSel string) *cache.ListWatch {
	note := m.noteError(src)
	tweak := func(o *metav1.ListOptions) {
		o.LabelSelector = labelSel
		o.FieldSelector = fieldSel
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			l, err := rc.List(ctx, o)
			note(err)
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			tweak(&o)
			w, err := rc.Watch(ctx, o)
			note(err)
			return w, err
		},
	}
}

// gvk is the resolved kind; valid after Start.
func (m *Monitor) gvk() schema.GroupVersionKind {
	return m.res.GVR.GroupVersion().WithKind(m.res.Kind)
}

// maybeSyncedLocked queues Synchronization once the namespace watch (if
// any) and every source have been listed. Changes seen before that moment
// are part of its snapshot, so no event is queued for them.
func (m *Monitor) maybeSyncedLocked() {
	if m.synced || m.err != nil || !m.nsSynced {
		return
	}
	for _, s := range m.sources {
		if !s.synced {
			return
		}
	}
	m.synced = true
	m.queue = append(m.queue, Event{Binding: m.spec.spec.Name, Type: EventSynchronization, Objects: m.snapshotLocked()})
	m.notify()
}

// emitLocked queues a watch event, if Synchronization was queued already.
func (m *Monitor) emitLocked(typ WatchEventType, e *entry) {
	if !m.synced {
		return
	}
	m.queue = append(m.queue, Event{
		Binding: m.spec.spec.Name, Type: EventWatch, WatchEvent: typ,
		Namespace: e.namespace, Name: e.name, Objects: []ObjectAndFilterResult{e.item()},
	})
	m.notify()
}

func (m *Monitor) failLocked(err error) {
	if m.err != nil {
		return
	}
	m.err = err
	close(m.failedCh)
	m.cancel()
}

func (m *Monitor) notify() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// dispatch hands queued events to the handler in order until the monitor
// stops.
func (m *Monitor) dispatch() {
	defer m.wg.Done()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-m.wake:
		}
		m.mu.Lock()
		batch := m.queue
		m.queue = nil
		m.mu.Unlock()
		for _, ev := range batch {
			if m.ctx.Err() != nil {
				return
			}
			if m.handler != nil {
				m.handler(ev)
			}
			if ev.Type == EventSynchronization {
				close(m.syncedCh)
			}
		}
	}
}
