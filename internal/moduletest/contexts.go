package moduletest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/deckhand-dev/deckhand/internal/binding"
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
)

// eventWait bounds how long a replayed watch event may take to reach the
// binding. The event normally arrives in milliseconds; it never arrives when
// the runtime would drop it (its filter result did not change, or the
// object is outside the binding's selectors), and the case then fails with
// that explanation.
const eventWait = 3 * time.Second

// lifecycleBindings are the addon-operator module lifecycle bindings.
var lifecycleBindings = []hook.BindingType{hook.BindingBeforeHelm, hook.BindingAfterHelm, hook.BindingBeforeDeleteHelm, hook.BindingAfterDeleteHelm}

// buildContexts returns the binding contexts the runtime would hand h for
// case c: kubernetes bindings are served by internal/kube monitors watching
// an in-process cluster with the case's objects, so selectors, jq filters,
// snapshot order and change detection are the runtime's own.
func buildContexts(ctx context.Context, h *hook.Hook, c *Case) ([]hook.BindingContext, error) {
	cfg := &h.Config
	binding, err := pickBinding(cfg, c.Binding)
	if err != nil {
		return nil, err
	}
	kb, isKube := cfg.Binding(binding)
	if c.Event != "" && c.Event != EventSynchronization && !isKube {
		return nil, fmt.Errorf("event %s: binding %q is not a kubernetes binding", c.Event, binding)
	}

	before, err := eventState(c)
	if err != nil {
		return nil, err
	}
	var extra []schema.GroupVersionKind
	for _, b := range cfg.Kubernetes {
		if gv, err := schema.ParseGroupVersion(b.Watch.APIVersion); err == nil && b.Watch.APIVersion != "" {
			extra = append(extra, gv.WithKind(b.Watch.Kind))
		}
	}
	cl, err := newCluster(before, extra)
	if err != nil {
		return nil, err
	}
	defer cl.close()
	client, err := kube.NewClient(cl.restConfig())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mons := &monitors{ctx: ctx, client: client, byName: map[string]*kube.Monitor{}}
	defer mons.stop()

	var contexts []hook.BindingContext
	switch {
	case isKube && (c.Event == "" || c.Event == EventSynchronization):
		if kb.Watch.NoSynchronization {
			return nil, fmt.Errorf("binding %q is a v0 binding: it never gets a Synchronization, replay an event", binding)
		}
		if !kb.ExecuteHookOnSynchronization {
			return nil, fmt.Errorf("binding %q has executeHookOnSynchronization: false: the hook does not run on Synchronization", binding)
		}
		contexts = []hook.BindingContext{kb.SynchronizationContext("moduletest/" + binding)}
	case isKube:
		bc, err := replayEvent(ctx, mons, cl, kb, c)
		if err != nil {
			return nil, err
		}
		contexts = []hook.BindingContext{bc}
	default:
		contexts = []hook.BindingContext{nonKubeContext(cfg, binding)}
	}
	// Every other binding's watch starts on the state after the event, as
	// if it had been running all along.
	for _, b := range cfg.Kubernetes {
		if _, err := mons.start(b); err != nil {
			return nil, err
		}
	}
	var readErr error
	contexts = hook.RefreshSnapshots(contexts, func(name string) []hook.ObjectAndFilterResult {
		b, ok := cfg.Binding(name)
		if !ok {
			return nil
		}
		m, err := mons.start(b)
		if err != nil {
			readErr = errors.Join(readErr, err)
			return nil
		}
		return hookObjects(b, m.Snapshot())
	})
	if readErr != nil {
		return nil, readErr
	}
	return contexts, nil
}

// pickBinding resolves the case's binding name (or the hook's only binding).
func pickBinding(cfg *hook.Config, name string) (string, error) {
	var all []string
	if cfg.OnStartup != nil {
		all = append(all, hook.OnStartupName)
	}
	for _, s := range cfg.Schedules {
		all = append(all, s.Name)
	}
	for _, b := range cfg.Kubernetes {
		all = append(all, b.Name)
	}
	for _, bt := range lifecycleBindings {
		if _, ok := cfg.Lifecycle[bt]; ok {
			all = append(all, string(bt))
		}
	}
	if name == "" {
		if len(all) == 1 {
			return all[0], nil
		}
		return "", fmt.Errorf("binding: required, the hook has %d bindings: %s", len(all), strings.Join(all, ", "))
	}
	if !slices.Contains(all, name) {
		return "", fmt.Errorf("binding: the hook has no binding %q (it has: %s)", name, strings.Join(all, ", "))
	}
	return name, nil
}

// nonKubeContext is the context of an onStartup, schedule or lifecycle run.
func nonKubeContext(cfg *hook.Config, name string) hook.BindingContext {
	for _, s := range cfg.Schedules {
		if s.Name == name {
			return s.Context()
		}
	}
	if name == hook.OnStartupName {
		return hook.OnStartupContext()
	}
	return cfg.LifecycleContext(hook.BindingType(name))
}

// eventState returns the cluster's objects before the case's event.
func eventState(c *Case) ([]*unstructured.Unstructured, error) {
	before := make([]*unstructured.Unstructured, 0, len(c.objects)+1)
	for _, o := range c.objects {
		before = append(before, o.DeepCopy())
	}
	if c.object == nil {
		return before, nil
	}
	idx := slices.IndexFunc(before, func(o *unstructured.Unstructured) bool { return sameObject(o, c.object) })
	switch c.Event {
	case EventAdded:
		if idx >= 0 {
			before = slices.Delete(before, idx, idx+1)
		}
	case EventModified:
		if idx < 0 {
			return nil, fmt.Errorf("event Modified: object %s is not among objects (they hold its state before the event)", objectRef(c.object))
		}
	case EventDeleted:
		if idx < 0 {
			before = append(before, c.object.DeepCopy())
		}
	}
	return before, nil
}

// sameObject compares identities; a missing namespace means "default" for
// the comparison only when the other object has it.
func sameObject(a, b *unstructured.Unstructured) bool {
	return a.GroupVersionKind() == b.GroupVersionKind() && a.GetName() == b.GetName() &&
		(a.GetNamespace() == b.GetNamespace() || a.GetNamespace()+b.GetNamespace() == "default")
}

// replayEvent starts the binding's watch on the state before the event,
// changes the cluster and returns the context built from what the watch
// delivered.
func replayEvent(ctx context.Context, mons *monitors, cl *cluster, kb hook.KubernetesBinding, c *Case) (hook.BindingContext, error) {
	we := hook.WatchEvent(c.Event)
	if !kb.Watch.ExecutesOn(we) {
		return hook.BindingContext{}, fmt.Errorf("binding %q does not run the hook on %s events (executeHookOnEvent: %v)", kb.Name, c.Event, kb.Watch.ExecuteHookOnEvent)
	}
	events := make(chan kube.Event, 16)
	_, err := mons.startWith(kb, func(ev kube.Event) {
		if ev.Type == kube.EventWatch {
			select {
			case events <- ev:
			default:
			}
		}
	})
	if err != nil {
		return hook.BindingContext{}, err
	}
	obj := c.object.DeepCopy()
	if err := cl.apply(obj, c.Event == EventDeleted); err != nil {
		return hook.BindingContext{}, err
	}
	timer := time.NewTimer(eventWait)
	defer timer.Stop()
	for {
		select {
		case ev := <-events:
			if ev.Namespace != obj.GetNamespace() || ev.Name != obj.GetName() {
				continue
			}
			if string(ev.WatchEvent) != c.Event {
				return hook.BindingContext{}, fmt.Errorf("event %s on %s: the binding's watch saw %s (the object moved in or out of its selectors)", c.Event, objectRef(obj), ev.WatchEvent)
			}
			var item *hook.ObjectAndFilterResult
			if len(ev.Objects) > 0 {
				o := hookObject(kb, ev.Objects[0])
				item = &o
			}
			return kb.EventContext(we, item), nil
		case <-timer.C:
			return hook.BindingContext{}, fmt.Errorf("event %s on %s: binding %q got no event: the object is outside its selectors, or (Modified) its jqFilter result did not change, so the runtime would not run the hook", c.Event, objectRef(obj), kb.Name)
		case <-ctx.Done():
			return hook.BindingContext{}, ctx.Err()
		}
	}
}

// monitors are the started watches of one case, one per binding.
type monitors struct {
	ctx    context.Context
	client *kube.Client
	byName map[string]*kube.Monitor
}

func (ms *monitors) start(b hook.KubernetesBinding) (*kube.Monitor, error) {
	return ms.startWith(b, nil)
}

func (ms *monitors) startWith(b hook.KubernetesBinding, handler kube.Handler) (*kube.Monitor, error) {
	if m, ok := ms.byName[b.Name]; ok {
		return m, nil
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := kube.NewMonitor(ms.client, watchSpec(b), handler, kube.WithLogger(quiet))
	if err != nil {
		return nil, err
	}
	if err := m.Start(ms.ctx); err != nil {
		return nil, err
	}
	ms.byName[b.Name] = m
	waitCtx, cancel := context.WithTimeout(ms.ctx, 30*time.Second)
	defer cancel()
	if err := m.WaitForSync(waitCtx); err != nil {
		return nil, err
	}
	return m, nil
}

func (ms *monitors) stop() {
	for _, m := range ms.byName {
		m.Stop()
	}
}

// watchSpec, hookObject and hookObjects are the shared binding mapping of
// internal/binding, the one internal/hookserver uses for the running operator.
func watchSpec(b hook.KubernetesBinding) kube.WatchSpec { return binding.WatchSpec(b) }

func hookObject(b hook.KubernetesBinding, o kube.ObjectAndFilterResult) hook.ObjectAndFilterResult {
	return binding.Object(o, binding.Filtered(b))
}

func hookObjects(b hook.KubernetesBinding, objs []kube.ObjectAndFilterResult) []hook.ObjectAndFilterResult {
	return binding.Objects(b, objs)
}
