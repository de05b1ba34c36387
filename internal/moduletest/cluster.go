package moduletest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// cluster is a test case's cluster: an in-process HTTP server that answers
// discovery, list and watch for the case's objects, with label, field and
// name selectors applied as kube-apiserver applies them. It exists so that
// internal/kube monitors (the runtime's watch, jq filter and snapshot code)
// run unchanged against fixture objects. It is read-only for clients: only
// the test runner changes objects, to replay a watch event.
type cluster struct {
	kinds *kindRegistry
	srv   *httptest.Server

	mu       sync.Mutex
	objects  map[schema.GroupVersionResource]map[string]*unstructured.Unstructured // key ns/name
	watchers map[*watcher]struct{}
	// rv is the cluster's resource version: 1 after the initial objects,
	// one more per change. history holds the changes, so a watch that
	// starts after a change (from the resource version of its list) still
	// gets it, as from kube-apiserver's watch cache.
	rv      int
	history []change
	closed  bool
}

// change is one object change after the initial objects.
type change struct {
	rv       int
	gvr      schema.GroupVersionResource
	old, new *unstructured.Unstructured // new is nil for a delete
}

// newCluster serves objs. Kinds are learned from CRD objects and from the
// objects themselves; extra kinds (a binding's apiVersion/kind) are added as
// namespaced custom resources when nothing else declares them.
func newCluster(objs []*unstructured.Unstructured, extra []schema.GroupVersionKind) (*cluster, error) {
	c := &cluster{
		kinds:    newKindRegistry(),
		objects:  map[schema.GroupVersionResource]map[string]*unstructured.Unstructured{},
		watchers: map[*watcher]struct{}{},
		rv:       1,
	}
	c.kinds.learn(objs)
	for _, gvk := range extra {
		c.kinds.guess(gvk, true)
	}
	for _, o := range objs {
		if _, err := c.put(o); err != nil {
			return nil, err
		}
	}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	return c, nil
}

// restConfig points a client at the cluster.
func (c *cluster) restConfig() *rest.Config {
	return &rest.Config{Host: c.srv.URL, QPS: -1}
}

// close ends every watch and stops the server.
func (c *cluster) close() {
	c.mu.Lock()
	c.closed = true
	for w := range c.watchers {
		w.stop()
		delete(c.watchers, w)
	}
	c.mu.Unlock()
	c.srv.CloseClientConnections()
	c.srv.Close()
}

// put stores o (defaulting the namespace of a namespaced kind to "default",
// as kubectl does) and returns the previous object with that name.
func (c *cluster) put(o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	info, ok := c.kinds.lookup(o.GroupVersionKind())
	if !ok {
		return nil, fmt.Errorf("object %s: unknown kind", objectRef(o))
	}
	if info.namespaced && o.GetNamespace() == "" {
		o.SetNamespace("default")
	}
	if !info.namespaced && o.GetNamespace() != "" {
		return nil, fmt.Errorf("object %s: %s is cluster-scoped, remove metadata.namespace", objectRef(o), info.gvk.Kind)
	}
	gvr := info.gvr()
	if c.objects[gvr] == nil {
		c.objects[gvr] = map[string]*unstructured.Unstructured{}
	}
	key := o.GetNamespace() + "/" + o.GetName()
	old := c.objects[gvr][key]
	c.objects[gvr][key] = o
	return old, nil
}

// apply replaces or adds o (del=false) or deletes it (del=true) and sends
// the watch events kube-apiserver would send to each open watch: an object
// that moves into a watch's selectors is Added there, one that moves out is
// Deleted.
func (c *cluster) apply(o *unstructured.Unstructured, del bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	info, ok := c.kinds.lookup(o.GroupVersionKind())
	if !ok {
		return fmt.Errorf("object %s: unknown kind", objectRef(o))
	}
	var old *unstructured.Unstructured
	if del {
		if info.namespaced && o.GetNamespace() == "" {
			o.SetNamespace("default")
		}
		key := o.GetNamespace() + "/" + o.GetName()
		old = c.objects[info.gvr()][key]
		delete(c.objects[info.gvr()], key)
	} else {
		var err error
		if old, err = c.put(o); err != nil {
			return err
		}
	}
	c.rv++
	ch := change{rv: c.rv, gvr: info.gvr(), old: old}
	if !del {
		ch.new = o
	}
	c.history = append(c.history, ch)
	for w := range c.watchers {
		if ev, ok := w.eventFor(ch); ok {
			select {
			case w.events <- ev:
			case <-w.done:
			}
		}
	}
	return nil
}

func (c *cluster) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeStatus(w, http.StatusMethodNotAllowed, "the test cluster is read-only: hooks change objects through KUBERNETES_PATCH_PATH")
		return
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(segs) == 1 && segs[0] == "api":
		writeJSON(w, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
	case len(segs) == 1 && segs[0] == "apis":
		writeJSON(w, c.groups())
	case len(segs) == 2 && segs[0] == "api":
		writeJSON(w, c.resources(schema.GroupVersion{Version: segs[1]}))
	case len(segs) == 3 && segs[0] == "apis":
		writeJSON(w, c.resources(schema.GroupVersion{Group: segs[1], Version: segs[2]}))
	case len(segs) > 2 && segs[0] == "api":
		c.serveResource(w, r, schema.GroupVersion{Version: segs[1]}, segs[2:])
	case len(segs) > 3 && segs[0] == "apis":
		c.serveResource(w, r, schema.GroupVersion{Group: segs[1], Version: segs[2]}, segs[3:])
	default:
		// /version is not served on purpose: internal/kube then reads
		// every kind as JSON, so hooks see the case's objects exactly as
		// written rather than round-tripped through Go types.
		writeStatus(w, http.StatusNotFound, "not found: "+r.URL.Path)
	}
}

func (c *cluster) groups() metav1.APIGroupList {
	versions := map[string][]string{}
	for gvk := range c.kinds.byGVK {
		if gvk.Group != "" && !slices.Contains(versions[gvk.Group], gvk.Version) {
			versions[gvk.Group] = append(versions[gvk.Group], gvk.Version)
		}
	}
	list := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	names := make([]string, 0, len(versions))
	for g := range versions {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		vs := versions[g]
		sort.Strings(vs)
		grp := metav1.APIGroup{Name: g}
		for _, v := range vs {
			grp.Versions = append(grp.Versions, metav1.GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v})
		}
		grp.PreferredVersion = grp.Versions[len(grp.Versions)-1]
		list.Groups = append(list.Groups, grp)
	}
	return list
}

func (c *cluster) resources(gv schema.GroupVersion) metav1.APIResourceList {
	list := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
	for gvk, info := range c.kinds.byGVK {
		if gvk.GroupVersion() != gv {
			continue
		}
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: info.plural, SingularName: info.singular, Namespaced: info.namespaced, Kind: gvk.Kind,
			Verbs: metav1.Verbs{"get", "list", "watch"}, ShortNames: info.shortNames,
		})
	}
	sort.Slice(list.APIResources, func(i, j int) bool { return list.APIResources[i].Name < list.APIResources[j].Name })
	return list
}

// serveResource answers list and watch of one resource, cluster-wide or in
// a namespace (rest is [namespaces, NS,] PLURAL).
func (c *cluster) serveResource(w http.ResponseWriter, r *http.Request, gv schema.GroupVersion, rest []string) {
	namespace := ""
	if len(rest) >= 3 && rest[0] == "namespaces" {
		namespace, rest = rest[1], rest[2:]
	}
	if len(rest) != 1 {
		writeStatus(w, http.StatusNotFound, "the test cluster serves list and watch only: "+r.URL.Path)
		return
	}
	info, ok := c.kinds.byResource(gv.WithResource(rest[0]))
	if !ok {
		writeStatus(w, http.StatusNotFound, "unknown resource "+r.URL.Path)
		return
	}
	q := r.URL.Query()
	lsel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, err.Error())
		return
	}
	fsel, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, err.Error())
		return
	}
	wt := &watcher{gvr: info.gvr(), namespace: namespace, labels: lsel, fields: fsel}
	if q.Get("watch") == "true" || q.Get("watch") == "1" {
		if q.Get("sendInitialEvents") == "true" {
			// Streaming lists are not served; client-go falls back to list.
			writeStatus(w, http.StatusBadRequest, "sendInitialEvents is not supported by the test cluster")
			return
		}
		c.serveWatch(w, r, wt)
		return
	}
	c.mu.Lock()
	rv := c.rv
	items := []any{}
	for _, o := range c.objects[info.gvr()] {
		if wt.matches(o) {
			items = append(items, o.DeepCopy().Object)
		}
	}
	c.mu.Unlock()
	sort.Slice(items, func(i, j int) bool {
		a, b := &unstructured.Unstructured{Object: items[i].(map[string]any)}, &unstructured.Unstructured{Object: items[j].(map[string]any)}
		return a.GetNamespace()+"/"+a.GetName() < b.GetNamespace()+"/"+b.GetName()
	})
	writeJSON(w, map[string]any{
		"apiVersion": gv.String(),
		"kind":       info.gvk.Kind + "List",
		"metadata":   map[string]any{"resourceVersion": strconv.Itoa(rv)},
		"items":      items,
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeStatus(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: msg, Code: int32(code),
	})
}

func objectRef(o *unstructured.Unstructured) string {
	ref := o.GetKind()
	if o.GetNamespace() != "" {
		ref += " " + o.GetNamespace() + "/" + o.GetName()
	} else {
		ref += " " + o.GetName()
	}
	return ref
}
