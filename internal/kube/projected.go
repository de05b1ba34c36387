package kube

import (
	"context"
	"runtime"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// projected is a watched object already reduced to its entry, as it travels
// from the watch through the reflector to the store: only the name,
// namespace and resourceVersion the reflector needs are kept next to the
// entry (and a bookmark's annotations, which carry the end of the initial
// events). err is the projection's error, reported by the store.
type projected struct {
	metav1.ObjectMeta
	entry *entry
	err   error
}

func (p *projected) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject returns a shallow copy: nothing in a projected object is
// ever modified.
func (p *projected) DeepCopyObject() kruntime.Object {
	c := *p
	return &c
}

// projectingWatch projects the objects of a watch on GOMAXPROCS workers as
// they arrive, and hands the events on in their original order. During a
// large initial list (streamed as watch events) the jqFilter and the
// conversion so run on every core next to the decoding, instead of one
// after the other. Events already waiting are taken as one batch, so a
// burst costs one hand-off per batch rather than per event.
type projectingWatch struct {
	in     watch.Interface
	out    chan watch.Event
	cancel context.CancelFunc
}

// batch is a run of consecutive events; done is closed when all are
// projected.
type batch struct {
	evs  []watch.Event
	done chan struct{}
}

// maxBatch bounds a batch, so a burst is still spread over the workers.
const maxBatch = 64

func newProjectingWatch(ctx context.Context, in watch.Interface, project func(kruntime.Object) kruntime.Object) watch.Interface {
	ctx, cancel := context.WithCancel(ctx)
	w := &projectingWatch{in: in, out: make(chan watch.Event), cancel: cancel}
	workers := runtime.GOMAXPROCS(0)
	ordered := make(chan *batch, 8*workers)
	work := make(chan *batch, 8*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range work {
				for i := range b.evs {
					projectEvent(&b.evs[i], project)
				}
				close(b.done)
			}
		})
	}
	// reader: gathers the events waiting into a batch for the workers and
	// the writer.
	go func() {
		defer close(ordered)
		defer close(work)
		for {
			var first watch.Event
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-in.ResultChan():
				if !ok {
					return
				}
				first = ev
			}
			b := &batch{evs: []watch.Event{first}, done: make(chan struct{})}
			open := gather(in.ResultChan(), b)
			for _, ch := range []chan *batch{work, ordered} {
				select {
				case ch <- b:
				case <-ctx.Done():
					return
				}
			}
			if !open {
				return
			}
		}
	}()
	// writer: emits events in their original order.
	go func() {
		defer close(w.out)
		defer wg.Wait()
		for b := range ordered {
			select {
			case <-b.done:
			case <-ctx.Done():
				return
			}
			for _, ev := range b.evs {
				select {
				case w.out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return w
}

// gather adds the events already waiting on in to b, up to maxBatch; it
// reports false when in was closed.
func gather(in <-chan watch.Event, b *batch) bool {
	for len(b.evs) < maxBatch {
		select {
		case ev, ok := <-in:
			if !ok {
				return false
			}
			b.evs = append(b.evs, ev)
		default:
			return true
		}
	}
	return true
}

// projectEvent replaces an event's object by its projection; a bookmark
// keeps what the reflector reads, an error (a Status) is left as is.
func projectEvent(ev *watch.Event, project func(kruntime.Object) kruntime.Object) {
	switch ev.Type {
	case watch.Added, watch.Modified, watch.Deleted:
		ev.Object = project(ev.Object)
	case watch.Bookmark:
		ev.Object = bookmark(ev.Object)
	}
}

func (w *projectingWatch) Stop() {
	w.cancel()
	w.in.Stop()
}

func (w *projectingWatch) ResultChan() <-chan watch.Event { return w.out }

// bookmark keeps what the reflector reads from a bookmark.
func bookmark(obj kruntime.Object) kruntime.Object {
	a, err := meta.Accessor(obj)
	if err != nil {
		return obj
	}
	return &projected{ObjectMeta: metav1.ObjectMeta{ResourceVersion: a.GetResourceVersion(), Annotations: a.GetAnnotations()}}
}

// projectObject is what a source's projectingWatch runs on each object: an
// object without metadata is passed on unchanged (the reflector drops it).
func (s sourceStore) projectObject(obj kruntime.Object) kruntime.Object {
	a, err := meta.Accessor(obj)
	if err != nil {
		return obj
	}
	rv := a.GetResourceVersion()
	key, e, keyErr, err := s.project(obj)
	if keyErr != nil {
		return obj
	}
	return &projected{ObjectMeta: metav1.ObjectMeta{Namespace: key.namespace, Name: key.name, ResourceVersion: rv}, entry: e, err: err}
}
