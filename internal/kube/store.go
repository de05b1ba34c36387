package kube

import (
	"bytes"
	"cmp"
	"crypto/md5"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// entry is what a Monitor keeps per object: its key, the filter result
// (which drives change detection), the object's checksum when there is no
// filter, and the full JSON only when the binding keeps full objects. This
// is the whole per-object memory cost: no informer cache of full objects
// exists next to it.
type entry struct {
	objKey
	checksum [md5.Size]byte // without jqFilter: of the object's JSON
	filter   []byte         // nil without jqFilter
	object   []byte         // nil unless KeepFullObjectsInMemory
}

// changed reports whether e differs from prev as a hook sees it: by its
// filter result, or without a filter by the object's checksum, as
// shell-operator does.
func (e *entry) changed(prev *entry) bool {
	if e.filter != nil || prev.filter != nil {
		return !bytes.Equal(e.filter, prev.filter)
	}
	return e.checksum != prev.checksum
}

// objKey identifies an object within a Monitor (its kind is fixed). A
// struct key shares the strings the entry holds, where a "ns/name" string
// would cost one more allocation per object.
type objKey struct {
	namespace string
	name      string
}

func (k objKey) String() string { return k.namespace + "/" + k.name }

func (e *entry) item() ObjectAndFilterResult {
	return ObjectAndFilterResult{Object: e.object, FilterResult: e.filter}
}

// project reduces an object from a watch to an entry: the jq output and its
// MD5 (or, without jqFilter, the MD5 of the object's JSON, as
// shell-operator does). The object is not referenced afterwards.
// normalized says u holds integers as int already (see jqInput).
func (c *compiledSpec) project(key objKey, u *unstructured.Unstructured, normalized bool) (*entry, error) {
	e := &entry{objKey: key}
	var raw []byte
	if c.spec.KeepFullObjectsInMemory || c.jq == nil {
		var err error
		if raw, err = u.MarshalJSON(); err != nil {
			return nil, fmt.Errorf("encoding %s: %w", e.objKey, err)
		}
	}
	if c.jq != nil {
		filter := c.jq.filter
		if normalized {
			filter = c.jq.filterNormalized
		}
		out, err := filter(u.Object)
		if err != nil {
			return nil, fmt.Errorf("jqFilter on %s: %w", e.objKey, err)
		}
		e.filter = out
	} else {
		e.checksum = md5.Sum(raw)
	}
	if c.spec.KeepFullObjectsInMemory {
		e.object = raw
	}
	return e, nil
}

// source is one list+watch of a Monitor: one namespace ("" = all) and one
// name ("" = any). Its entries are its part of the snapshot.
type source struct {
	namespace string
	name      string
	entries   map[objKey]*entry
	synced    bool // the first list was stored
	stopped   bool
	cancel    func()
	lastErr   error // the last list/watch error, for WaitForSync
}

// sourceStore is the cache.ReflectorStore a source's reflector writes to.
// It projects objects outside the Monitor's lock, then updates the source
// and queues events under it.
type sourceStore struct {
	m   *Monitor
	src *source
}

func (s sourceStore) Add(obj any) error    { s.watchEvent(obj, WatchAdded); return nil }
func (s sourceStore) Update(obj any) error { s.watchEvent(obj, WatchModified); return nil }
func (s sourceStore) Delete(obj any) error { s.watchEvent(obj, WatchDeleted); return nil }
func (s sourceStore) Resync() error        { return nil }

func (s sourceStore) watchEvent(obj any, typ WatchEventType) {
	m := s.m
	key, e, keyErr, err := s.project(obj)
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.src.stopped || keyErr != nil {
		return
	}
	key.namespace = m.internLocked(key.namespace)
	old := s.src.entries[key]
	if err != nil {
		m.log.Error("dropping watch event", "binding", m.spec.spec.Name, "event", string(typ), "error", err)
		if typ == WatchDeleted && old != nil {
			// The object is gone even if its last state fails the
			// filter: forget it and report it with what was kept.
			delete(s.src.entries, key)
			m.emitLocked(typ, old)
		}
		// Otherwise, as in shell-operator, a jq error drops the event.
		return
	}
	e.objKey = key
	if typ == WatchDeleted {
		if old == nil {
			return
		}
		delete(s.src.entries, key)
		m.emitLocked(typ, e)
		return
	}
	s.src.entries[key] = e
	if old != nil && !e.changed(old) {
		return // the filter result did not change: no event
	}
	m.emitLocked(typ, e)
}

// project reads obj's key (keyErr: obj is not an object) and reduces it to
// an entry (err: the conversion or the jqFilter failed).
func (s sourceStore) project(obj any) (key objKey, e *entry, keyErr, err error) {
	if p, ok := obj.(*projected); ok {
		return objKey{namespace: p.Namespace, name: p.Name}, p.entry, nil, p.err
	}
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	a, keyErr := meta.Accessor(obj)
	if keyErr != nil {
		return objKey{}, nil, keyErr, keyErr
	}
	key = objKey{namespace: a.GetNamespace(), name: a.GetName()}
	u, normalized, err := asUnstructured(obj, s.m.gvk(), s.m.spec.pruner)
	if err != nil {
		return key, nil, nil, err
	}
	e, err = s.m.spec.project(key, u, normalized)
	return key, e, nil, err
}

// projectAll projects a (re)list on GOMAXPROCS workers: the jqFilter and
// the conversion of each object are independent, and on a large initial
// list they are most of the client's work. It returns the entries of the
// objects that projected and the first error, in list order.
func (s sourceStore) projectAll(list []any) ([]*entry, error) {
	entries := make([]*entry, len(list))
	errs := make([]error, len(list))
	workers := min(runtime.GOMAXPROCS(0), (len(list)+255)/256)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(list); i += workers {
				_, entries[i], _, errs[i] = s.project(list[i])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return entries, err
		}
	}
	return entries, nil
}

// Replace is the reflector's (re)list. The first one fills the source; a
// later one (after a watch could not resume) is diffed against what is kept,
// so hooks see the changes they missed as events.
func (s sourceStore) Replace(list []any, _ string) error {
	m := s.m
	listed, firstErr := s.projectAll(list)
	fresh := make(map[objKey]*entry, len(list))
	for _, e := range listed {
		if e != nil {
			fresh[e.objKey] = e
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.src.stopped {
		return nil
	}
	for _, e := range fresh {
		e.namespace = m.internLocked(e.namespace)
	}
	if firstErr != nil && !m.synced {
		// As in shell-operator a jq error on the initial list fails the
		// binding; WaitForSync reports it.
		m.failLocked(fmt.Errorf("binding %q: initial list: %w", m.spec.spec.Name, firstErr))
		return nil
	}
	if firstErr != nil {
		m.log.Error("relist: dropping objects the jqFilter fails on", "binding", m.spec.spec.Name, "error", firstErr)
	}
	old := s.src.entries
	s.src.entries = fresh
	first := !s.src.synced
	s.src.synced = true
	if !m.synced {
		// Nothing is reported before Synchronization: its snapshot is
		// what was listed.
		m.maybeSyncedLocked()
		return nil
	}
	for _, k := range sortedKeys(fresh) {
		e := fresh[k]
		prev, had := old[k]
		switch {
		case !had:
			m.emitLocked(WatchAdded, e)
		case e.changed(prev):
			m.emitLocked(WatchModified, e)
		}
	}
	for _, k := range sortedKeys(old) {
		if _, still := fresh[k]; !still {
			m.emitLocked(WatchDeleted, old[k])
		}
	}
	if first {
		m.maybeSyncedLocked()
	}
	return nil
}

func sortedKeys(m map[objKey]*entry) []objKey {
	keys := make([]objKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b objKey) int {
		return cmp.Or(strings.Compare(a.namespace, b.namespace), strings.Compare(a.name, b.name))
	})
	return keys
}

// internLocked returns one shared copy of a namespace name, so 10,000
// objects of a namespace hold one string, not 10,000.
func (m *Monitor) internLocked(ns string) string {
	if v, ok := m.namespaceNames[ns]; ok {
		return v
	}
	if m.namespaceNames == nil {
		m.namespaceNames = map[string]string{}
	}
	m.namespaceNames[ns] = ns
	return ns
}
