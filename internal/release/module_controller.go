package release

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
	"github.com/deckhand-dev/deckhand/internal/runtime"
)

// Runner runs module versions: the module runtime.
type Runner interface {
	// Deploy makes the version in md the running one of its module and
	// returns once it converged; on failure the previous version runs on.
	Deploy(ctx context.Context, md runtime.ModuleDir) error
	// ModuleVersionDir is the directory a module runs from ("" if none).
	ModuleVersionDir(name string) string
}

// ModuleReconciler moves one module's releases through their phases and
// deploys the one whose turn it is, or the tag of its ModulePullOverride.
// Requests are named after the module.
type ModuleReconciler struct {
	Client ctrl.Client
	// APIReader reads what the operator does not cache (Secrets of keys).
	APIReader  ctrl.Reader
	Registries *Registries
	Store      Store
	Runner     Runner
	Recorder   record.EventRecorder
	Metrics    *Metrics
	Log        *slog.Logger
	// KubeVersion is the cluster's version, for requirements.kubernetes.
	KubeVersion string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (r *ModuleReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile handles the module named by req.
func (r *ModuleReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	name := req.Name
	var mod v1alpha1.Module
	if err := r.Client.Get(ctx, ctrl.ObjectKey{Name: name}, &mod); err != nil {
		return reconcile.Result{}, ctrl.IgnoreNotFound(err)
	}
	if mod.Properties.Source == v1alpha1.ModuleSourceEmbedded {
		return reconcile.Result{}, nil
	}
	mc, err := r.moduleConfig(ctx, name)
	if err != nil {
		return reconcile.Result{}, err
	}
	var mpo v1alpha2.ModulePullOverride
	if err := r.Client.Get(ctx, ctrl.ObjectKey{Name: name}, &mpo); err == nil {
		return r.reconcileOverride(ctx, &mod, mc, &mpo)
	} else if !apierrors.IsNotFound(err) {
		return reconcile.Result{}, err
	}
	var list v1alpha1.ModuleReleaseList
	if err := r.Client.List(ctx, &list, ctrl.MatchingLabels{v1alpha1.LabelModule: name}); err != nil {
		return reconcile.Result{}, err
	}
	enabled := mc != nil && mc.Spec.Enabled != nil && *mc.Spec.Enabled
	if !enabled {
		return reconcile.Result{}, r.modulePhase(ctx, name, v1alpha1.ModulePhaseAvailable, "")
	}
	if _, conflict := ActiveSource(&mod, mc); conflict {
		return reconcile.Result{}, r.modulePhase(ctx, name, v1alpha1.ModulePhaseConflict, msgSeveralSources+" ("+strings.Join(mod.Properties.AvailableSources, ", ")+"): set spec.source in ModuleConfig "+name)
	}
	if src := mc.Spec.Source; src != "" && !slices.Contains(mod.Properties.AvailableSources, src) {
		msg := fmt.Sprintf("ModuleConfig %s names the source %q, which does not offer the module", name, src)
		if len(mod.Properties.AvailableSources) > 0 {
			msg += " (offered by " + strings.Join(mod.Properties.AvailableSources, ", ") + ")"
		}
		return reconcile.Result{}, r.modulePhase(ctx, name, v1alpha1.ModulePhaseAvailable, msg)
	}
	deployed := deployedRelease(list.Items)
	if deployed != nil {
		if err := r.supersedeOlder(ctx, list.Items, deployed); err != nil {
			return reconcile.Result{}, err
		}
		if r.Runner.ModuleVersionDir(name) != r.Store.VersionDir(name, deployed.Spec.Version) {
			// A fresh disk after a restart, or an override just removed:
			// the deployed version must be what runs.
			if err := r.runVersion(ctx, deployed, mc); err != nil {
				r.Log.Error("restoring the deployed version", "module", name, "version", deployed.Spec.Version, "error", err)
				return reconcile.Result{}, err
			}
		}
	}
	pol, err := ResolvePolicy(ctx, r.Client, mc)
	if err != nil {
		for i := range list.Items {
			if p := list.Items[i].Status.Phase; p == "" || p == v1alpha1.ModuleReleasePhasePending {
				if err := r.setReleaseStatus(ctx, &list.Items[i], v1alpha1.ModuleReleasePhasePending, err.Error(), false); err != nil {
					return reconcile.Result{}, err
				}
			}
		}
		return reconcile.Result{RequeueAfter: time.Minute}, nil
	}
	plan := Decide(list.Items, pol, Checks{Now: r.now(), Requirements: func(mr *v1alpha1.ModuleRelease) error { return r.requirements(ctx, mr) }})
	for _, s := range plan.Steps {
		if err := r.setReleaseStatus(ctx, s.Release, s.Phase, s.Message, s.Approved); err != nil {
			return reconcile.Result{}, err
		}
	}
	if plan.Deploy != nil {
		if err := r.deployRelease(ctx, plan.Deploy, deployed, mc); err != nil {
			return reconcile.Result{}, err
		}
		// Look again: a later pending release may go next.
		return reconcile.Result{Requeue: true}, nil
	}
	return reconcile.Result{RequeueAfter: plan.RequeueAfter}, nil
}

func (r *ModuleReconciler) moduleConfig(ctx context.Context, name string) (*v1alpha1.ModuleConfig, error) {
	var mc v1alpha1.ModuleConfig
	if err := r.Client.Get(ctx, ctrl.ObjectKey{Name: name}, &mc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return &mc, nil
}

// deployedRelease is the newest Deployed release.
func deployedRelease(items []v1alpha1.ModuleRelease) *v1alpha1.ModuleRelease {
	var out *v1alpha1.ModuleRelease
	var outV *semver.Version
	for i := range items {
		if items[i].Status.Phase != v1alpha1.ModuleReleasePhaseDeployed {
			continue
		}
		v, err := semver.NewVersion(items[i].Spec.Version)
		if err != nil {
			continue
		}
		if outV == nil || v.GreaterThan(outV) {
			out, outV = &items[i], v
		}
	}
	return out
}

// supersedeOlder repairs a crash between marking a new release Deployed and
// the old one Superseded: only one release is Deployed.
func (r *ModuleReconciler) supersedeOlder(ctx context.Context, items []v1alpha1.ModuleRelease, deployed *v1alpha1.ModuleRelease) error {
	for i := range items {
		mr := &items[i]
		if mr == deployed || mr.Status.Phase != v1alpha1.ModuleReleasePhaseDeployed {
			continue
		}
		if err := r.setReleaseStatus(ctx, mr, v1alpha1.ModuleReleasePhaseSuperseded, "superseded by "+deployed.Spec.Version, true); err != nil {
			return err
		}
		if err := r.setDeployedLabel(ctx, mr, false); err != nil {
			return err
		}
	}
	return nil
}

// requirements checks a release's requirements.kubernetes and .modules.
func (r *ModuleReconciler) requirements(ctx context.Context, mr *v1alpha1.ModuleRelease) error {
	q := mr.Spec.Requirements
	if q == nil {
		return nil
	}
	if q.Kubernetes != "" && r.KubeVersion != "" {
		c, err := semver.NewConstraint(q.Kubernetes)
		if err != nil {
			return fmt.Errorf("kubernetes %q is not a version constraint", q.Kubernetes)
		}
		v, err := semver.NewVersion(r.KubeVersion)
		if err == nil && !c.Check(v) {
			return fmt.Errorf("kubernetes %s is required, the cluster runs %s", q.Kubernetes, r.KubeVersion)
		}
	}
	for name, constraint := range q.Modules {
		var m v1alpha1.Module
		if err := r.Client.Get(ctx, ctrl.ObjectKey{Name: name}, &m); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("module %s %s is required and not installed", name, constraint)
			}
			return err
		}
		if !moduleEnabled(&m) {
			return fmt.Errorf("module %s %s is required and not enabled", name, constraint)
		}
		if m.Properties.Version == "" || constraint == "" {
			continue // an embedded module has no version to check
		}
		c, err := semver.NewConstraint(constraint)
		if err != nil {
			return fmt.Errorf("module %s: %q is not a version constraint", name, constraint)
		}
		if v, err := semver.NewVersion(m.Properties.Version); err == nil && !c.Check(v) {
			return fmt.Errorf("module %s %s is required, %s runs", name, constraint, m.Properties.Version)
		}
	}
	return nil
}

func moduleEnabled(m *v1alpha1.Module) bool {
	for _, c := range m.Status.Conditions {
		if c.Type == v1alpha1.ModuleConditionEnabledByModuleManager {
			return c.Status == "True"
		}
	}
	return false
}
