package binding

import (
	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/kube"
)

// WatchSpec maps kubernetes binding b onto the monitor's WatchSpec, field by
// field. Which events run the hook and whether Synchronization is sent stay
// with the caller: the monitor reports every event.
func WatchSpec(b hook.KubernetesBinding) kube.WatchSpec {
	w := b.Watch
	spec := kube.WatchSpec{
		Name:                    b.Name,
		APIVersion:              w.APIVersion,
		Kind:                    w.Kind,
		NameSelector:            w.NameSelector,
		LabelSelector:           w.LabelSelector,
		Namespace:               kube.NamespaceSelector{MatchNames: w.Namespace.MatchNames, LabelSelector: w.Namespace.LabelSelector},
		JqFilter:                w.JqFilter,
		KeepFullObjectsInMemory: w.KeepFullObjectsInMemory,
	}
	for _, r := range w.FieldSelector {
		spec.FieldSelector = append(spec.FieldSelector, kube.FieldRequirement{Field: r.Field, Operator: r.Operator, Value: r.Value})
	}
	return spec
}

// Object turns one object of a watch into a binding context's object;
// filtered says the binding has a jqFilter, so "filterResult" is always
// written (null when the filter gave nothing).
func Object(o kube.ObjectAndFilterResult, filtered bool) hook.ObjectAndFilterResult {
	return hook.ObjectAndFilterResult{Object: o.Object, FilterResult: o.FilterResult, Filtered: filtered}
}

// Objects turns a watch's snapshot of binding b into binding context
// objects, in the same order.
func Objects(b hook.KubernetesBinding, objs []kube.ObjectAndFilterResult) []hook.ObjectAndFilterResult {
	out := make([]hook.ObjectAndFilterResult, len(objs))
	for i, o := range objs {
		out[i] = Object(o, Filtered(b))
	}
	return out
}

// Filtered reports whether binding b has a jqFilter.
func Filtered(b hook.KubernetesBinding) bool { return b.Watch.JqFilter != "" }
