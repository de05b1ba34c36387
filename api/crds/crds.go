// Package crds embeds the deckhouse.io CRDs generated from api/v1alpha1 and
// api/v1alpha2 (the deckhouse.io_*.yaml files next to this file, written by
// `make generate`) and installs them into a cluster.
package crds

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apiextensionsv1client "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/typed/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"
)

//go:embed deckhouse.io_*.yaml
var files embed.FS

// DefaultEstablishTimeout bounds the wait for Established when the context
// passed to Install has no deadline.
const DefaultEstablishTimeout = time.Minute

// Files returns the embedded CRD YAML files by name (deckhouse.io_<plural>.yaml).
func Files() fs.FS { return files }

// Manifest returns every CRD as one multi-document YAML, for kubectl apply.
func Manifest() []byte {
	var buf bytes.Buffer
	for _, name := range fileNames() {
		data, _ := files.ReadFile(name) // embedded: cannot fail
		if !bytes.HasPrefix(data, []byte("---")) {
			buf.WriteString("---\n")
		}
		buf.Write(data)
	}
	return buf.Bytes()
}

// CRDs decodes the embedded CRDs, sorted by name. Every call returns new
// objects, so callers may change them.
func CRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, name := range fileNames() {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if crd.Kind != "CustomResourceDefinition" || crd.Name == "" {
			return nil, fmt.Errorf("%s: not a CustomResourceDefinition", name)
		}
		out = append(out, crd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func fileNames() []string {
	names, _ := fs.Glob(files, "deckhouse.io_*.yaml") // pattern is valid
	sort.Strings(names)
	return names
}

// Install creates or updates the deckhouse.io CRDs through cfg and waits
// until the API server serves them (Established). Without a deadline on ctx
// the wait is bounded by DefaultEstablishTimeout.
func Install(ctx context.Context, cfg *rest.Config) error {
	cs, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	crds, err := CRDs()
	if err != nil {
		return err
	}
	return InstallCRDs(ctx, cs.ApiextensionsV1().CustomResourceDefinitions(), crds)
}

// InstallCRDs creates each CRD, or updates the spec of one that exists
// (keeping its other labels and annotations), then waits until all are
// Established. A CRD whose names the API server does not accept fails at once.
func InstallCRDs(ctx context.Context, c apiextensionsv1client.CustomResourceDefinitionInterface, crds []*apiextensionsv1.CustomResourceDefinition) error {
	for _, crd := range crds {
		if err := createOrUpdate(ctx, c, crd); err != nil {
			return fmt.Errorf("installing CRD %s: %w", crd.Name, err)
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultEstablishTimeout)
		defer cancel()
	}
	for _, crd := range crds {
		if err := waitEstablished(ctx, c, crd.Name); err != nil {
			return err
		}
	}
	return nil
}

func createOrUpdate(ctx context.Context, c apiextensionsv1client.CustomResourceDefinitionInterface, want *apiextensionsv1.CustomResourceDefinition) error {
	_, err := c.Create(ctx, want.DeepCopy(), metav1.CreateOptions{})
	if err == nil || !apierrors.IsAlreadyExists(err) {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		have, err := c.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		upd := have.DeepCopy()
		upd.Spec = *want.Spec.DeepCopy()
		upd.Labels = merge(upd.Labels, want.Labels)
		upd.Annotations = merge(upd.Annotations, want.Annotations)
		_, err = c.Update(ctx, upd, metav1.UpdateOptions{})
		return err
	})
}

func merge(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]string, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

func waitEstablished(ctx context.Context, c apiextensionsv1client.CustomResourceDefinitionInterface, name string) error {
	var last string
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		crd, err := c.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = "no Established condition yet"
		for _, cond := range crd.Status.Conditions {
			switch {
			case cond.Type == apiextensionsv1.NamesAccepted && cond.Status == apiextensionsv1.ConditionFalse:
				return false, fmt.Errorf("CRD %s: names not accepted: %s", name, cond.Message)
			case cond.Type == apiextensionsv1.Established:
				if cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
				last = fmt.Sprintf("Established=%s: %s", cond.Status, cond.Message)
			}
		}
		return false, nil
	})
	if err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return fmt.Errorf("CRD %s not established: %s (%w)", name, last, err)
	}
	return err
}
