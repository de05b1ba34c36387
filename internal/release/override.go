package release

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/runtime"
)

// DefaultOverrideInterval is how often an override's tag is checked (DKP's).
const DefaultOverrideInterval = 15 * time.Second

var scanIntervalRE = regexp.MustCompile(`^(\d+h)?(\d+m)?(\d+s)?$`)

// overrideInterval reads spec.scanInterval (DKP's pattern, 15s by default).
func overrideInterval(s string) time.Duration {
	if s == "" || !scanIntervalRE.MatchString(s) {
		return DefaultOverrideInterval
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return DefaultOverrideInterval
	}
	return d
}

// devVersion names an override's unpacked tree after its image digest, so
// a re-pushed tag is a new directory and the old one runs until it converged.
func devVersion(digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return "dev-" + hex
}

// reconcileOverride runs the tag a ModulePullOverride names instead of the
// module's releases, re-checking its digest every scanInterval; when the
// override goes, the deployed release runs again.
func (r *ModuleReconciler) reconcileOverride(ctx context.Context, mod *v1alpha1.Module, mc *v1alpha1.ModuleConfig, mpo *v1alpha2.ModulePullOverride) (reconcile.Result, error) {
	name := mod.Name
	interval := overrideInterval(mpo.Spec.ScanInterval)
	if !mpo.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, r.endOverride(ctx, mod, mc, mpo)
	}
	if !controllerutil.ContainsFinalizer(mpo, v1alpha2.FinalizerModulePullOverride) {
		controllerutil.AddFinalizer(mpo, v1alpha2.FinalizerModulePullOverride)
		if err := r.Client.Update(ctx, mpo); err != nil {
			return reconcile.Result{}, err
		}
	}
	refuse := func(msg string) (reconcile.Result, error) {
		return reconcile.Result{RequeueAfter: interval}, r.overrideStatus(ctx, mpo, func(st *v1alpha2.ModulePullOverrideStatus) { st.Message = msg })
	}
	if mc == nil || mc.Spec.Enabled == nil || !*mc.Spec.Enabled {
		return refuse("The module disabled")
	}
	source, conflict := ActiveSource(mod, mc)
	if source == "" || conflict {
		return refuse("The module does not have an active source")
	}
	var ms v1alpha1.ModuleSource
	if err := r.Client.Get(ctx, ctrl.ObjectKey{Name: source}, &ms); err != nil {
		if apierrors.IsNotFound(err) {
			return refuse("The source not found")
		}
		return reconcile.Result{}, err
	}
	c, err := r.Registries.For(ms.Spec.Registry)
	if err != nil {
		return refuse(err.Error())
	}
	digest, err := c.TagDigest(ctx, ms.Spec.Registry.Repo, name, mpo.Spec.ImageTag)
	if err != nil {
		return refuse(err.Error())
	}
	if digest == "" {
		return refuse(fmt.Sprintf("tag %s of %s/%s not found", mpo.Spec.ImageTag, ms.Spec.Registry.Repo, name))
	}
	version := devVersion(digest)
	renew := mpo.Annotations[v1alpha2.AnnotationRenew] == "true"
	if r.Runner.ModuleVersionDir(name) == r.Store.VersionDir(name, version) && !renew {
		return reconcile.Result{RequeueAfter: interval}, nil
	}
	if err := r.runTag(ctx, &ms, mc, mpo, version, renew); err != nil {
		r.Recorder.Event(mpo, "Warning", "DeployFailed", err.Error())
		return refuse(err.Error())
	}
	if renew {
		delete(mpo.Annotations, v1alpha2.AnnotationRenew)
		if err := r.Client.Update(ctx, mpo); err != nil && !apierrors.IsConflict(err) {
			return reconcile.Result{}, err
		}
	}
	r.Recorder.Eventf(mpo, "Normal", "Deployed", "module %s runs %s (%s)", name, mpo.Spec.ImageTag, digest)
	now := metav1.Now()
	if err := r.overrideStatus(ctx, mpo, func(st *v1alpha2.ModulePullOverrideStatus) {
		st.Message, st.ImageDigest, st.UpdatedAt = v1alpha2.ModulePullOverrideMessageReady, digest, &now
	}); err != nil {
		return reconcile.Result{}, err
	}
	err = r.updateModule(ctx, name, func(p *v1alpha1.ModuleProperties) {
		p.Source, p.Version = source, mpo.Spec.ImageTag
	}, func(st *v1alpha1.ModuleStatus) {
		setModuleCondition(st, v1alpha1.ModuleConditionIsOverridden, true, "ModulePullOverride", "runs "+mpo.Spec.ImageTag+" ("+digest+")")
	})
	return reconcile.Result{RequeueAfter: interval}, err
}

// runTag downloads, validates and runs one digest of an override's tag.
func (r *ModuleReconciler) runTag(ctx context.Context, ms *v1alpha1.ModuleSource, mc *v1alpha1.ModuleConfig, mpo *v1alpha2.ModulePullOverride, version string, renew bool) error {
	name := mpo.Name
	ctx, cancel := context.WithTimeout(ctx, deployTimeout)
	defer cancel()
	reg := RegistryValues(ms.Spec.Registry, name)
	md := runtime.ModuleDir{Name: name, Dir: r.Store.VersionDir(name, version), Registry: reg}
	if renew || !r.Store.Has(name, version) {
		c, err := r.Registries.For(ms.Spec.Registry)
		if err != nil {
			return err
		}
		ver, err := r.sourceVerification(ctx, ms)
		if err != nil {
			return &stageError{"verification", err}
		}
		digest := ""
		if ver.mode != "" {
			sr, verr := c.VerifyTag(ctx, ms.Spec.Registry.Repo, name, mpo.Spec.ImageTag, ver.keys)
			switch {
			case verr == nil:
				digest = sr.Digest
			case ver.mode == v1alpha1.VerificationEnforce || !errors.Is(verr, registry.ErrNotSigned):
				return &stageError{"verification", verr}
			default:
				r.Recorder.Event(mpo, "Warning", "Unverified", verr.Error()+" (deployed: the source's verification mode is Warn)")
			}
		}
		res, err := c.PullTag(ctx, ms.Spec.Registry.Repo, name, mpo.Spec.ImageTag, md.Dir, registry.PullOptions{Force: true, Digest: digest})
		if err != nil {
			return &stageError{"download", err}
		}
		if devVersion(res.Digest) != version {
			return &stageError{"download", fmt.Errorf("tag %s moved to %s while it was pulled; trying again", mpo.Spec.ImageTag, res.Digest)}
		}
		if err := r.Store.WriteSidecar(name, version, res.Digest, reg); err != nil {
			return err
		}
	}
	if err := Validate(ctx, md.Dir, name, reg, mc); err != nil {
		return &stageError{"validation", err}
	}
	if err := r.Runner.Deploy(ctx, md); err != nil {
		return &stageError{"converge", err}
	}
	if err := r.Store.SetLive(name, version); err != nil {
		return err
	}
	r.Metrics.deployedVersion(name, mpo.Spec.ImageTag)
	return nil
}

// endOverride puts the deployed release back and lets the override go.
func (r *ModuleReconciler) endOverride(ctx context.Context, mod *v1alpha1.Module, mc *v1alpha1.ModuleConfig, mpo *v1alpha2.ModulePullOverride) error {
	var list v1alpha1.ModuleReleaseList
	if err := r.Client.List(ctx, &list, ctrl.MatchingLabels{v1alpha1.LabelModule: mod.Name}); err != nil {
		return err
	}
	if deployed := deployedRelease(list.Items); deployed != nil {
		if err := r.runVersion(ctx, deployed, mc); err != nil {
			return fmt.Errorf("rolling %s back to %s: %w", mod.Name, deployed.Spec.Version, err)
		}
		r.Recorder.Eventf(mpo, "Normal", "RolledBack", "module %s runs its deployed release %s again", mod.Name, deployed.Spec.Version)
	}
	if err := r.updateModule(ctx, mod.Name, nil, func(st *v1alpha1.ModuleStatus) {
		setModuleCondition(st, v1alpha1.ModuleConditionIsOverridden, false, "", "")
	}); err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha2.ModulePullOverride
		if err := r.Client.Get(ctx, ctrl.ObjectKeyFromObject(mpo), &cur); err != nil {
			return ctrl.IgnoreNotFound(err)
		}
		if !controllerutil.RemoveFinalizer(&cur, v1alpha2.FinalizerModulePullOverride) {
			return nil
		}
		return r.Client.Update(ctx, &cur)
	})
}

func (r *ModuleReconciler) overrideStatus(ctx context.Context, mpo *v1alpha2.ModulePullOverride, f func(*v1alpha2.ModulePullOverrideStatus)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha2.ModulePullOverride
		if err := r.Client.Get(ctx, ctrl.ObjectKeyFromObject(mpo), &cur); err != nil {
			return ctrl.IgnoreNotFound(err)
		}
		before := *cur.Status.DeepCopy()
		f(&cur.Status)
		if before.Message == cur.Status.Message && before.ImageDigest == cur.Status.ImageDigest && before.UpdatedAt.Equal(cur.Status.UpdatedAt) {
			return nil
		}
		return r.Client.Status().Update(ctx, &cur)
	})
}
