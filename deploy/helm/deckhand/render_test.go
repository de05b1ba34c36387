package deckhand_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/deckhand-dev/deckhand/internal/helm"
)

// chartDir is the chart: the test runs in its directory.
const chartDir = "."

// rendered is the chart's output as objects, in Helm's install order.
type rendered struct {
	objs     []*unstructured.Unstructured
	manifest string // what `helm template` would print
}

// render renders the chart offline as `helm install --dry-run` would, through
// internal/helm (the same renderer the runtime uses for modules).
func render(t *testing.T, namespace string, values map[string]any) *rendered {
	t.Helper()
	c, err := helm.LoadChart(chartDir, "deckhand")
	if err != nil {
		t.Fatal(err)
	}
	r, err := helm.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(context.Background(), helm.Request{Chart: c, ReleaseName: "deckhand", Namespace: namespace, Values: values})
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	res := &rendered{manifest: out.String()}
	for _, m := range out.Install {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(m.Content), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("%s: rendered YAML does not parse: %v", m.Template, err)
			}
			if len(obj.Object) > 0 {
				res.objs = append(res.objs, obj)
			}
		}
	}
	return res
}

// find returns the object of kind and name, or nil.
func (r *rendered) find(kind, name string) *unstructured.Unstructured {
	for _, o := range r.objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// must is find, failing the test when the object is not rendered.
func (r *rendered) must(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	o := r.find(kind, name)
	if o == nil {
		t.Fatalf("no %s %s rendered; got:\n%s", kind, name, r.manifest)
	}
	return o
}

func (r *rendered) kinds() map[string]int {
	n := map[string]int{}
	for _, o := range r.objs {
		n[o.GetKind()]++
	}
	return n
}
