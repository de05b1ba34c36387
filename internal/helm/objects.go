package helm

import (
	"context"
	"fmt"
	"os"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
)

// objects decodes the objects of a multi-document manifest.
func objects(manifest string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, doc := range releaseutil.SplitManifests(manifest) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			return nil, err
		}
		if len(u.Object) == 0 || u.GetKind() == "" {
			continue
		}
		out = append(out, u)
	}
	return out, nil
}

// missingObjects names the objects of a release manifest that are not in
// the cluster.
func (c *Client) missingObjects(ctx context.Context, manifest string) ([]string, error) {
	objs, err := objects(manifest)
	if err != nil {
		return nil, fmt.Errorf("helm: reading the release manifest: %w", err)
	}
	mapper, err := c.getter.ToRESTMapper()
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			if meta.IsNoMatchError(err) {
				// The kind itself is gone (its CRD was deleted).
				missing = append(missing, gvk.Kind+"/"+u.GetName())
				continue
			}
			return nil, err
		}
		ri := c.dyn.Resource(m.Resource)
		var getErr error
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := u.GetNamespace()
			if ns == "" {
				ns = c.getter.namespace
			}
			_, getErr = ri.Namespace(ns).Get(ctx, u.GetName(), metav1.GetOptions{})
		} else {
			_, getErr = ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		}
		switch {
		case apierrors.IsNotFound(getErr):
			missing = append(missing, gvk.Kind+"/"+u.GetName())
		case getErr != nil:
			return nil, fmt.Errorf("helm: checking %s/%s: %w", gvk.Kind, u.GetName(), getErr)
		}
	}
	return missing, nil
}

// ApplyCRDs creates or updates the CustomResourceDefinitions in files
// (server-side apply, deckhand as the field manager), so a chart's custom
// objects find their kinds; other kinds in those files are refused.
func (c *Client) ApplyCRDs(ctx context.Context, files []string) error {
	gvr := apiextensionsGVR
	applied := false
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		objs, err := objects(string(data))
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, u := range objs {
			if u.GetKind() != "CustomResourceDefinition" {
				return fmt.Errorf("%s: %s %s is not a CustomResourceDefinition (crds/ holds only CRDs)", f, u.GetKind(), u.GetName())
			}
			// DKP modules annotate CRD schemas with documentation keys
			// (x-doc-*) that the API server refuses; DKP drops them too.
			stripDocKeys(u.Object)
			raw, err := u.MarshalJSON()
			if err != nil {
				return err
			}
			force := true
			if _, err := c.dyn.Resource(gvr).Patch(ctx, u.GetName(), types.ApplyPatchType, raw, metav1.PatchOptions{FieldManager: "deckhand", Force: &force}); err != nil {
				return fmt.Errorf("%s: applying CRD %s: %w", f, u.GetName(), err)
			}
			applied = true
		}
	}
	if applied {
		c.getter.resetMapper()
	}
	return nil
}

var apiextensionsGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// stripDocKeys removes every map key starting with "x-doc" below v.
func stripDocKeys(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if strings.HasPrefix(k, "x-doc") {
				delete(t, k)
				continue
			}
			stripDocKeys(child)
		}
	case []any:
		for _, child := range t {
			stripDocKeys(child)
		}
	}
}
