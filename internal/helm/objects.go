package helm

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// missingObjects names the objects that are not in the cluster.
func (c *Client) missingObjects(ctx context.Context, objs []*unstructured.Unstructured) ([]string, error) {
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
