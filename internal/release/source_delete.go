package release

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
)

// ensureFinalizer keeps a source from going while releases from it are
// deployed (DKP's modules.deckhouse.io/release-exists).
func (r *SourceReconciler) ensureFinalizer(ctx context.Context, ms *v1alpha1.ModuleSource) error {
	if controllerutil.ContainsFinalizer(ms, v1alpha1.FinalizerReleaseExists) {
		return nil
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha1.ModuleSource
		if err := r.Client.Get(ctx, ctrl.ObjectKeyFromObject(ms), &cur); err != nil {
			return ctrl.IgnoreNotFound(err)
		}
		if !controllerutil.AddFinalizer(&cur, v1alpha1.FinalizerReleaseExists) {
			return nil
		}
		return r.Client.Update(ctx, &cur)
	})
}

// finalize lets a deleted source go once no release from it is deployed,
// or at once with the force-delete annotation; until then its status says
// which releases hold it.
func (r *SourceReconciler) finalize(ctx context.Context, ms *v1alpha1.ModuleSource) error {
	if !controllerutil.ContainsFinalizer(ms, v1alpha1.FinalizerReleaseExists) {
		return nil
	}
	if ms.Annotations[v1alpha1.AnnotationForceDelete] != "true" {
		var list v1alpha1.ModuleReleaseList
		if err := r.Client.List(ctx, &list, ctrl.MatchingLabels{v1alpha1.LabelSource: ms.Name, v1alpha1.LabelStatus: "deployed"}); err != nil {
			return err
		}
		if len(list.Items) > 0 {
			names := make([]string, len(list.Items))
			for i, mr := range list.Items {
				names[i] = mr.Name
			}
			msg := fmt.Sprintf("the source contains at least %d deployed release(s) (%s): disable the modules, or annotate it %s=true to delete it anyway",
				len(names), strings.Join(names, ", "), v1alpha1.AnnotationForceDelete)
			return r.writeStatus(ctx, ms, func(st *v1alpha1.ModuleSourceStatus) {
				st.Phase, st.Message = v1alpha1.ModuleSourcePhaseTerminating, msg
			})
		}
	}
	if err := r.forgetSource(ctx, ms.Name); err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha1.ModuleSource
		if err := r.Client.Get(ctx, ctrl.ObjectKeyFromObject(ms), &cur); err != nil {
			return ctrl.IgnoreNotFound(err)
		}
		if !controllerutil.RemoveFinalizer(&cur, v1alpha1.FinalizerReleaseExists) {
			return nil
		}
		return r.Client.Update(ctx, &cur)
	})
}
