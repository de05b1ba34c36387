package kube

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// WatchSpec says which objects a Monitor lists and watches and how it reduces
// each of them. It mirrors shell-operator's kubernetes binding fields, as
// plain data, so a caller maps its own configuration onto it.
type WatchSpec struct {
	// Name names the binding in errors and logs.
	Name string
	// APIVersion is "group/version" or "version"; empty means the preferred
	// version of Kind.
	APIVersion string
	// Kind is a kind, plural or short name in any case ("Pod", "pods", "po"),
	// resolved through discovery when the Monitor starts.
	Kind string
	// NameSelector is nameSelector.matchNames: only objects with these
	// names (one watch per name, a metadata.name field selector). Empty means
	// any name. It excludes a metadata.name requirement in FieldSelector.
	NameSelector []string
	// LabelSelector is labelSelector; nil means any labels.
	LabelSelector *metav1.LabelSelector
	// FieldSelector is fieldSelector.matchExpressions, ANDed and passed to
	// the API server (so only fields it supports work).
	FieldSelector []FieldRequirement
	// Namespace picks namespaces; the zero value means all namespaces. Both
	// parts may be set: the union is watched. Ignored for cluster-scoped
	// kinds.
	Namespace NamespaceSelector
	// JqFilter is a jq program run on every object; its output (see
	// ObjectAndFilterResult.FilterResult) drives change detection: a
	// Modified event whose output did not change is not delivered.
	JqFilter string
	// KeepFullObjectsInMemory keeps each object's JSON in the snapshot and
	// in events. False keeps only the filter result (shell-operator's
	// default is true; a caller maps the default itself).
	KeepFullObjectsInMemory bool
}

// FieldRequirement is one fieldSelector expression.
type FieldRequirement struct {
	Field string
	// Operator is one of =, ==, Equals, !=, NotEquals.
	Operator string
	Value    string
}

// NamespaceSelector is the namespace part of a WatchSpec.
type NamespaceSelector struct {
	// MatchNames are static namespaces (namespace.nameSelector.matchNames).
	MatchNames []string
	// LabelSelector selects namespaces by labels; objects of a namespace
	// that starts matching are delivered as Added, those of one that stops
	// matching as Deleted.
	LabelSelector *metav1.LabelSelector
}

// compiledSpec is a WatchSpec checked and turned into what list calls need.
type compiledSpec struct {
	spec          WatchSpec
	names         []string // "" = any
	namespaces    []string // static; "" = all
	labelSelector string
	fieldSelector string
	nsByLabels    bool   // namespace.labelSelector is set
	nsSelector    string // its string form ("" selects every namespace)
	jq            *jqProgram
	pruner        *pruner // clears what jq never reads before conversion; nil: convert all
}

func compileSpec(s WatchSpec, jqLibraryPaths []string) (*compiledSpec, error) {
	fail := func(field string, err error) (*compiledSpec, error) {
		return nil, fmt.Errorf("binding %q: %s: %w", s.Name, field, err)
	}
	if s.Kind == "" {
		return fail("kind", fmt.Errorf("is required"))
	}
	c := &compiledSpec{spec: s, names: dedup(s.NameSelector), namespaces: dedup(s.Namespace.MatchNames)}
	if s.LabelSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(s.LabelSelector)
		if err != nil {
			return fail("labelSelector", err)
		}
		c.labelSelector = sel.String()
	}
	var parts []string
	for i, r := range s.FieldSelector {
		var op string
		switch r.Operator {
		case "=", "==", "Equals":
			op = "="
		case "!=", "NotEquals":
			op = "!="
		default:
			return fail(fmt.Sprintf("fieldSelector.matchExpressions[%d].operator", i), fmt.Errorf("unknown operator %q (want =, ==, Equals, != or NotEquals)", r.Operator))
		}
		if r.Field == "metadata.name" && len(c.names) > 0 {
			return fail(fmt.Sprintf("fieldSelector.matchExpressions[%d]", i), fmt.Errorf("metadata.name cannot be combined with nameSelector"))
		}
		parts = append(parts, r.Field+op+r.Value)
	}
	c.fieldSelector = strings.Join(parts, ",")
	if _, err := fields.ParseSelector(c.fieldSelector); err != nil {
		return fail("fieldSelector", err)
	}
	if s.Namespace.LabelSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(s.Namespace.LabelSelector)
		if err != nil {
			return fail("namespace.labelSelector", err)
		}
		c.nsByLabels, c.nsSelector = true, sel.String()
	}
	if len(c.names) == 0 {
		c.names = []string{""}
	}
	if len(c.namespaces) == 0 && s.Namespace.LabelSelector == nil {
		c.namespaces = []string{""}
	}
	if s.JqFilter != "" {
		prog, err := compileJQ(s.JqFilter, jqLibraryPaths...)
		if err != nil {
			return fail("jqFilter", err)
		}
		c.jq = prog
		if !s.KeepFullObjectsInMemory {
			c.pruner = newPruner(prog.reads)
		}
	}
	return c, nil
}

// fieldSelectorFor adds the metadata.name requirement of one name watch.
func (c *compiledSpec) fieldSelectorFor(name string) string {
	if name == "" {
		return c.fieldSelector
	}
	sel := "metadata.name=" + name
	if c.fieldSelector != "" {
		sel = c.fieldSelector + "," + sel
	}
	return sel
}

func dedup(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
