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
// after the other.
type projectingWatch struct {
	in     watch.Interface
	out    chan watch.Event
	cancel context.CancelFunc
}

// pending is one event being projected; done is closed when ev is ready.
type pending struct {
	ev   watch.Event
	done chan struct{}
}

func newProjectingWatch(ctx context.Context, in watch.Interface, project func(kruntime.Object) kruntime.Object) watch.Interface {
	ctx, cancel := context.WithCancel(ctx)
	w := &projectingWatch{in: in, out: make(chan watch.Event), cancel: cancel}
	workers := runtime.GOMAXPROCS(0)
	ordered := make(chan *pending, 256*workers)
	work := make(chan *pending, 256*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for p := range work {
				p.ev.Object = project(p.ev.Object)
				close(p.done)
			}
		})
	}
	// reader: hands each event to the workers and to the writer.
	go func() {
		defer close(ordered)
		defer close(work)
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-in.ResultChan():
				if !ok {
					return
				}
				p := &pending{ev: ev, done: make(chan struct{})}
				switch ev.Type {
				case watch.Added, watch.Modified, watch.Deleted:
					select {
					case work <- p:
					case <-ctx.Done():
						return
					}
				case watch.Bookmark:
					p.ev.Object = bookmark(ev.Object)
					close(p.done)
				default: // watch.Error: the reflector reads the Status
					close(p.done)
				}
				select {
				case ordered <- p:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	// writer: emits events in their original order.
	go func() {
		defer close(w.out)
		defer wg.Wait()
		for p := range ordered {
			select {
			case <-p.done:
			case <-ctx.Done():
				return
			}
			select {
			case w.out <- p.ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return w
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
