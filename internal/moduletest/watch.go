package moduletest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// watcher is one open watch request.
type watcher struct {
	gvr       schema.GroupVersionResource
	namespace string
	labels    labels.Selector
	fields    fields.Selector
	events    chan watchEvent
	done      chan struct{}
	stopOnce  sync.Once
}

// stop ends the watch; safe to call more than once and without the lock.
func (w *watcher) stop() { w.stopOnce.Do(func() { close(w.done) }) }

type watchEvent struct {
	Type   string         `json:"type"`
	Object map[string]any `json:"object"`
}

// eventFor is the event a change means to watch w, if any.
func (w *watcher) eventFor(ch change) (watchEvent, bool) {
	if w.gvr != ch.gvr {
		return watchEvent{}, false
	}
	was := ch.old != nil && w.matches(ch.old)
	is := ch.new != nil && w.matches(ch.new)
	switch {
	case was && is:
		return watchEvent{Type: "MODIFIED", Object: ch.new.Object}, true
	case is:
		return watchEvent{Type: "ADDED", Object: ch.new.Object}, true
	case was && ch.new == nil:
		return watchEvent{Type: "DELETED", Object: ch.old.Object}, true
	case was:
		return watchEvent{Type: "DELETED", Object: ch.new.Object}, true
	}
	return watchEvent{}, false
}

func (w *watcher) matches(o *unstructured.Unstructured) bool {
	if w.namespace != "" && o.GetNamespace() != w.namespace {
		return false
	}
	return w.labels.Matches(labels.Set(o.GetLabels())) && w.fields.Matches(objectFields{o})
}

// objectFields lets a field selector read any field of an object
// ("metadata.name", "status.phase", "spec.nodeName").
type objectFields struct{ o *unstructured.Unstructured }

func (f objectFields) Has(field string) bool {
	_, found, _ := unstructured.NestedFieldNoCopy(f.o.Object, strings.Split(field, ".")...)
	return found
}

func (f objectFields) Get(field string) string {
	v, found, _ := unstructured.NestedFieldNoCopy(f.o.Object, strings.Split(field, ".")...)
	if !found || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func (c *cluster) serveWatch(w http.ResponseWriter, r *http.Request, wt *watcher) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeStatus(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	wt.events = make(chan watchEvent)
	wt.done = make(chan struct{})
	from, _ := strconv.Atoi(r.URL.Query().Get("resourceVersion"))
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		writeStatus(w, http.StatusServiceUnavailable, "test cluster stopped")
		return
	}
	// Changes after the watch's starting point are replayed first; an
	// empty or "0" resourceVersion means "from now on".
	var backlog []watchEvent
	for _, ch := range c.history {
		if from > 0 && ch.rv > from {
			if ev, ok := wt.eventFor(ch); ok {
				backlog = append(backlog, ev)
			}
		}
	}
	c.watchers[wt] = struct{}{}
	c.mu.Unlock()
	defer func() {
		// Stop first: apply may be blocked sending to this watch while
		// holding the lock.
		wt.stop()
		c.mu.Lock()
		delete(c.watchers, wt)
		c.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	enc := json.NewEncoder(w)
	for _, ev := range backlog {
		if err := enc.Encode(ev); err != nil {
			return
		}
	}
	flusher.Flush()
	for {
		select {
		case ev := <-wt.events:
			if err := enc.Encode(ev); err != nil {
				return
			}
			flusher.Flush()
		case <-wt.done:
			return
		case <-r.Context().Done():
			return
		}
	}
}
