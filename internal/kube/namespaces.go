package kube

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

var namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// startNamespaceWatchLocked watches the namespaces matching
// namespace.labelSelector. The API server reports a namespace whose labels
// stop matching as deleted and one that starts matching as added, so this
// store only has to start and stop per-namespace watches.
func (m *Monitor) startNamespaceWatchLocked() {
	ctx, cancel := context.WithCancel(m.ctx)
	src := &source{cancel: cancel}
	lw := m.listWatch(src, m.client.dynamic.Resource(namespacesGVR), m.spec.nsSelector, "")
	r := cache.NewReflectorWithOptions(lw, &unstructured.Unstructured{}, namespaceStore{m: m, src: src},
		cache.ReflectorOptions{Name: "deckhand binding " + m.spec.spec.Name + " namespaces"})
	m.nsSource = src
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		r.RunWithContext(ctx)
	}()
}

// namespaceStore turns namespace watch events into per-namespace watches.
type namespaceStore struct {
	m   *Monitor
	src *source
}

func (s namespaceStore) Add(obj any) error    { s.set(obj, true); return nil }
func (s namespaceStore) Update(obj any) error { s.set(obj, true); return nil }
func (s namespaceStore) Delete(obj any) error { s.set(obj, false); return nil }
func (s namespaceStore) Resync() error        { return nil }

func (s namespaceStore) set(obj any, matches bool) {
	name := namespaceName(obj)
	if name == "" {
		return
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.m.err != nil {
		return
	}
	s.m.setNamespaceLocked(name, matches)
}

func (s namespaceStore) Replace(list []any, _ string) error {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil
	}
	now := map[string]bool{}
	for _, obj := range list {
		if name := namespaceName(obj); name != "" {
			now[name] = true
			m.setNamespaceLocked(name, true)
		}
	}
	for ns := range m.dynamicNamespaces {
		if !now[ns] {
			m.setNamespaceLocked(ns, false)
		}
	}
	if !m.nsSynced {
		m.nsSynced = true
		m.maybeSyncedLocked()
	}
	return nil
}

// setNamespaceLocked starts or stops the watches of a namespace selected by
// labels; statically named namespaces are watched regardless.
func (m *Monitor) setNamespaceLocked(ns string, matches bool) {
	if m.dynamicNamespaces == nil {
		m.dynamicNamespaces = map[string]bool{}
	}
	static := false
	for _, s := range m.spec.namespaces {
		static = static || s == ns
	}
	switch {
	case static:
	case matches && !m.dynamicNamespaces[ns]:
		m.dynamicNamespaces[ns] = true
		m.addSourcesLocked(ns)
	case !matches && m.dynamicNamespaces[ns]:
		delete(m.dynamicNamespaces, ns)
		m.removeSourcesLocked(ns)
	}
}

func namespaceName(obj any) string {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u.GetName()
	}
	return ""
}
