package release

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/internal/registry"
)

// ConditionSignatureVerified is set on a release whose source asks for
// signatures: True when a trusted key signed it, False (with Warn) when it
// was deployed without.
const ConditionSignatureVerified = "SignatureVerified"

// verification is what a source asks of signatures.
type verification struct {
	mode string // "" when off
	keys []registry.VerifyKey
}

// sourceVerification reads a source's verification policy and its keys
// (inline and from the Secret, read directly: the operator does not cache
// Secrets).
func (r *ModuleReconciler) sourceVerification(ctx context.Context, ms *v1alpha1.ModuleSource) (verification, error) {
	v := ms.Spec.Verification
	if v == nil || v.Mode == v1alpha1.VerificationOff {
		return verification{}, nil
	}
	out := verification{mode: v.Mode}
	if out.mode == "" {
		out.mode = v1alpha1.VerificationEnforce
	}
	var pems []string
	pems = append(pems, v.PublicKeys...)
	if ref := v.PublicKeysSecretRef; ref != nil {
		reader := r.APIReader
		if reader == nil {
			reader = r.Client
		}
		var s corev1.Secret
		if err := reader.Get(ctx, ctrl.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, &s); err != nil {
			return out, fmt.Errorf("ModuleSource %s spec.verification.publicKeysSecretRef %s/%s: %w", ms.Name, ref.Namespace, ref.Name, err)
		}
		for _, data := range s.Data {
			pems = append(pems, string(data))
		}
	}
	if len(pems) == 0 {
		return out, fmt.Errorf("ModuleSource %s: spec.verification has mode %s and no public keys", ms.Name, out.mode)
	}
	keys, err := registry.LoadVerifyKeys([]byte(strings.Join(pems, "\n")))
	if err != nil {
		return out, fmt.Errorf("ModuleSource %s spec.verification: %w", ms.Name, err)
	}
	out.keys = keys
	return out, nil
}

// check verifies a version before anything of it is unpacked and returns
// the digest to pull (the one the signature covers) and, in Warn mode, the
// problem that was let through.
func (v verification) check(ctx context.Context, c *registry.Client, repo, module, version string) (digest string, warning error, err error) {
	if v.mode == "" {
		return "", nil, nil
	}
	res, verr := c.Verify(ctx, repo, module, version, v.keys)
	switch {
	case verr == nil:
		return res.Bundle.Digest, nil, nil
	case v.mode == v1alpha1.VerificationWarn && errors.Is(verr, registry.ErrNotSigned):
		return "", verr, nil
	default:
		return "", nil, verr
	}
}

// recordVerification sets the release's SignatureVerified condition (and
// a Warning event when a Warn source let an unsigned release through).
func (r *ModuleReconciler) recordVerification(ctx context.Context, mr *v1alpha1.ModuleRelease, v verification, warning error) {
	if v.mode == "" {
		return
	}
	ok, reason, msg := true, "Verified", "signed by a trusted key"
	if warning != nil {
		ok, reason, msg = false, "Unverified", warning.Error()+" (deployed: the source's verification mode is Warn)"
		r.Recorder.Event(mr, "Warning", "Unverified", msg)
	}
	if err := r.updateReleaseStatus(ctx, mr, func(st *v1alpha1.ModuleReleaseStatus) {
		setCondition(&st.Conditions, mr.Generation, ConditionSignatureVerified, ok, reason, msg)
	}); err != nil {
		r.Log.Warn("recording the signature check", "release", mr.Name, "error", err)
	}
}
