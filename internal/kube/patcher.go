package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
)

// fieldManager names deckhand in managedFields of what hooks create or patch.
const fieldManager = "deckhand"

// Patcher applies parsed KUBERNETES_PATCH_PATH operations.
type Patcher struct {
	client     *Client
	deleteWait time.Duration
	pollEvery  time.Duration
}

// PatcherOption tunes a Patcher.
type PatcherOption func(*Patcher)

// WithDeleteWait sets how long a (foreground) Delete waits for the object to
// be gone; shell-operator waits 20s, polling every second.
func WithDeleteWait(d time.Duration) PatcherOption {
	return func(p *Patcher) { p.deleteWait = d }
}

// NewPatcher returns a Patcher that calls the API server through client.
func NewPatcher(client *Client, opts ...PatcherOption) *Patcher {
	p := &Patcher{client: client, deleteWait: 20 * time.Second, pollEvery: time.Second}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Apply runs ops in order. Every kind is resolved before the first call, so
// an unknown kind (or a namespaced kind without a namespace) fails the whole
// file before anything is written. After
// that, as in shell-operator, a failing operation does not stop the ones
// after it; all errors are returned joined, each naming its operation, so the
// hook task fails and its retry re-applies the file.
func (p *Patcher) Apply(ctx context.Context, ops []Operation) error {
	resources := make([]Resource, len(ops))
	for i, op := range ops {
		r, err := p.client.Resolve(op.APIVersion, op.Kind)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		// Without a namespace a namespaced object would be addressed at
		// the cluster level, where a delete "succeeds" as not found.
		if r.Namespaced && op.Namespace == "" {
			return fmt.Errorf("%s: namespace is required for namespaced kind %s", op, r.Kind)
		}
		resources[i] = r
	}
	var errs []error
	for i, op := range ops {
		if err := p.apply(ctx, op, resources[i]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", op, err))
		}
	}
	return errors.Join(errs...)
}

func (p *Patcher) apply(ctx context.Context, op Operation, r Resource) error {
	switch {
	case op.Type.isCreate():
		return p.create(ctx, op, r)
	case op.Type.isDelete():
		return p.delete(ctx, op, r)
	case op.Type == OpJQPatch:
		return ignoreMissing(op, p.jqPatch(ctx, op, r))
	case op.Type == OpMergePatch:
		return ignoreMissing(op, p.patch(ctx, op, r, types.MergePatchType, op.MergePatch))
	case op.Type == OpJSONPatch:
		return ignoreMissing(op, p.patch(ctx, op, r, types.JSONPatchType, op.JSONPatch))
	}
	return fmt.Errorf("unknown operation %q", op.Type)
}

func ignoreMissing(op Operation, err error) error {
	if op.IgnoreMissingObject && apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func subresources(op Operation) []string {
	if op.Subresource == "" {
		return nil
	}
	return []string{op.Subresource}
}

func (p *Patcher) create(ctx context.Context, op Operation, r Resource) error {
	rc := p.client.resourceClient(r, op.Object.GetNamespace())
	_, err := rc.Create(ctx, op.Object.DeepCopy(), metav1.CreateOptions{FieldManager: fieldManager}, subresources(op)...)
	switch {
	case err == nil:
		return nil
	case !apierrors.IsAlreadyExists(err):
		return err
	case op.Type == OpCreateIfNotExists:
		return nil
	case op.Type == OpCreate:
		return err
	}
	// CreateOrUpdate: a full Update with the live resourceVersion, as
	// shell-operator's code does (its docs say merge patch).
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := rc.Get(ctx, op.Object.GetName(), metav1.GetOptions{}, subresources(op)...)
		if err != nil {
			return err
		}
		obj := op.Object.DeepCopy()
		obj.SetResourceVersion(live.GetResourceVersion())
		_, err = rc.Update(ctx, obj, metav1.UpdateOptions{FieldManager: fieldManager}, subresources(op)...)
		return err
	})
}

func (p *Patcher) delete(ctx context.Context, op Operation, r Resource) error {
	propagation := map[OperationType]metav1.DeletionPropagation{
		OpDelete:             metav1.DeletePropagationForeground,
		OpDeleteInBackground: metav1.DeletePropagationBackground,
		OpDeleteNonCascading: metav1.DeletePropagationOrphan,
	}[op.Type]
	rc := p.client.resourceClient(r, op.Namespace)
	err := rc.Delete(ctx, op.Name, metav1.DeleteOptions{PropagationPolicy: &propagation}, subresources(op)...)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || propagation != metav1.DeletePropagationForeground {
		return err
	}
	// Foreground: the object lingers until the garbage collector removed its
	// dependents; wait for it to be gone, as shell-operator does.
	err = wait.PollUntilContextTimeout(ctx, p.pollEvery, p.deleteWait, true, func(ctx context.Context) (bool, error) {
		_, err := rc.Get(ctx, op.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return fmt.Errorf("waiting up to %s for the object to be deleted: %w", p.deleteWait, err)
	}
	return nil
}

func (p *Patcher) patch(ctx context.Context, op Operation, r Resource, pt types.PatchType, data []byte) error {
	_, err := p.client.resourceClient(r, op.Namespace).Patch(ctx, op.Name, pt, data, metav1.PatchOptions{FieldManager: fieldManager}, subresources(op)...)
	return err
}

// jqPatch reads the object, runs the filter on it and updates the object
// with the result when it changed, retrying on conflicts.
func (p *Patcher) jqPatch(ctx context.Context, op Operation, r Resource) error {
	rc := p.client.resourceClient(r, op.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := rc.Get(ctx, op.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		outs, err := op.jq.outputs(live.DeepCopy().UnstructuredContent())
		if err != nil {
			return err
		}
		if len(outs) != 1 {
			return fmt.Errorf("jqFilter must output exactly one object, got %d outputs", len(outs))
		}
		data, err := json.Marshal(outs[0])
		if err != nil {
			return err
		}
		patched := &unstructured.Unstructured{}
		if err := patched.UnmarshalJSON(data); err != nil {
			return fmt.Errorf("jqFilter result is not a Kubernetes object: %w", err)
		}
		if equality.Semantic.DeepEqual(normalized(live), normalized(patched)) {
			return nil
		}
		_, err = rc.Update(ctx, patched, metav1.UpdateOptions{FieldManager: fieldManager}, subresources(op)...)
		return err
	})
}

// normalized gives an object's content in one number representation so that
// a jq round trip (int64 -> int) does not look like a change.
func normalized(u *unstructured.Unstructured) any {
	data, err := u.MarshalJSON()
	if err != nil {
		return u.Object
	}
	var v any
	_ = json.Unmarshal(data, &v)
	return v
}
