package release

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/runtime"
)

// deployTimeout bounds one deploy: download, validation and the converge.
const deployTimeout = 30 * time.Minute

// stageError says which stage of a deploy failed (download, validation,
// converge), for the release's message.
type stageError struct {
	Stage string
	Err   error
}

func (e *stageError) Error() string { return e.Stage + " failed: " + e.Err.Error() }
func (e *stageError) Unwrap() error { return e.Err }

// fetch makes sure a release's version is unpacked and valid on disk and
// returns what the runtime needs to run it.
func (r *ModuleReconciler) fetch(ctx context.Context, mr *v1alpha1.ModuleRelease, mc *v1alpha1.ModuleConfig) (runtime.ModuleDir, *registry.PullResult, error) {
	name, version := mr.Spec.ModuleName, mr.Spec.Version
	var ms v1alpha1.ModuleSource
	sourceName := mr.Labels[v1alpha1.LabelSource]
	if err := r.Client.Get(ctx, ctrl.ObjectKey{Name: sourceName}, &ms); err != nil {
		return runtime.ModuleDir{}, nil, &stageError{"download", fmt.Errorf("ModuleSource %q: %w", sourceName, err)}
	}
	reg := RegistryValues(ms.Spec.Registry, name)
	md := runtime.ModuleDir{Name: name, Dir: r.Store.VersionDir(name, version), Registry: reg}
	var res *registry.PullResult
	if !r.Store.Has(name, version) {
		c, err := r.Registries.For(ms.Spec.Registry)
		if err != nil {
			return md, nil, &stageError{"download", err}
		}
		ver, err := r.sourceVerification(ctx, &ms)
		if err != nil {
			return md, nil, &stageError{"verification", err}
		}
		// Signatures are checked before a byte is unpacked, and the digest
		// they cover is what is pulled.
		digest, warning, err := ver.check(ctx, c, ms.Spec.Registry.Repo, name, version)
		if err != nil {
			return md, nil, &stageError{"verification", err}
		}
		r.recordVerification(ctx, mr, ver, warning)
		// Pull checks every blob against its digest and unpacks into a
		// fresh directory that replaces md.Dir only when complete.
		res, err = c.Pull(ctx, ms.Spec.Registry.Repo, name, version, md.Dir, registry.PullOptions{Force: true, Digest: digest})
		if err != nil {
			return md, nil, &stageError{"download", err}
		}
		if err := r.Store.WriteSidecar(name, version, res.Digest, reg); err != nil {
			return md, nil, &stageError{"download", err}
		}
	}
	if err := Validate(ctx, md.Dir, name, reg, mc); err != nil {
		return md, res, &stageError{"validation", err}
	}
	return md, res, nil
}

// runVersion runs a release's version again (download if needed), without
// the release rules: it is the deployed one already.
func (r *ModuleReconciler) runVersion(ctx context.Context, mr *v1alpha1.ModuleRelease, mc *v1alpha1.ModuleConfig) error {
	ctx, cancel := context.WithTimeout(ctx, deployTimeout)
	defer cancel()
	md, _, err := r.fetch(ctx, mr, mc)
	if err != nil {
		return err
	}
	if err := r.Runner.Deploy(ctx, md); err != nil {
		return &stageError{"converge", err}
	}
	if err := r.Store.SetLive(mr.Spec.ModuleName, mr.Spec.Version); err != nil {
		return err
	}
	r.Metrics.deployedVersion(mr.Spec.ModuleName, mr.Spec.Version)
	return r.moduleDeployed(ctx, mr, "")
}

// deployRelease downloads, validates and runs a release; the previous
// version runs until the new one converged. A failure suspends the release
// with the reason and leaves the previous version running.
func (r *ModuleReconciler) deployRelease(ctx context.Context, mr, previous *v1alpha1.ModuleRelease, mc *v1alpha1.ModuleConfig) error {
	start := time.Now()
	name, version := mr.Spec.ModuleName, mr.Spec.Version
	r.Log.Info("deploying release", "module", name, "version", version)
	dctx, cancel := context.WithTimeout(ctx, deployTimeout)
	defer cancel()
	md, res, err := r.fetch(dctx, mr, mc)
	if err == nil {
		if derr := r.Runner.Deploy(dctx, md); derr != nil {
			err = &stageError{"converge", derr}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // stopping: not the release's fault
		}
		r.Metrics.deploySeconds.WithLabelValues("error").Observe(time.Since(start).Seconds())
		msg := err.Error()
		if previous != nil {
			msg += fmt.Sprintf("; %s keeps running", previous.Spec.Version)
		}
		r.Recorder.Event(mr, "Warning", "DeployFailed", msg)
		r.Log.Error("release suspended", "module", name, "version", version, "error", err)
		if serr := r.setReleaseStatus(ctx, mr, v1alpha1.ModuleReleasePhaseSuspended, msg, true); serr != nil {
			return errors.Join(err, serr)
		}
		return r.moduleCondition(ctx, name, v1alpha1.ModuleConditionLastReleaseDeployed, false, "DeployFailed", fmt.Sprintf("%s: %s", version, msg))
	}
	if err := r.Store.SetLive(name, version); err != nil {
		return err
	}
	r.Metrics.deploySeconds.WithLabelValues("ok").Observe(time.Since(start).Seconds())
	r.Metrics.deployedVersion(name, version)
	if err := r.markDeployed(ctx, mr, res, time.Since(start)); err != nil {
		return err
	}
	if previous != nil {
		if err := r.setReleaseStatus(ctx, previous, v1alpha1.ModuleReleasePhaseSuperseded, "superseded by "+version, true); err != nil {
			return err
		}
		if err := r.setDeployedLabel(ctx, previous, false); err != nil {
			return err
		}
	}
	keep := []string{}
	if previous != nil {
		keep = append(keep, previous.Spec.Version)
	}
	if err := r.Store.Prune(name, keep...); err != nil {
		r.Log.Warn("removing old versions from disk", "module", name, "error", err)
	}
	r.Recorder.Eventf(mr, "Normal", "Deployed", "module %s %s deployed and converged in %s", name, version, time.Since(start).Round(time.Millisecond))
	return r.moduleDeployed(ctx, mr, mr.Labels[v1alpha1.LabelUpdatePolicy])
}

// markDeployed sets the release Deployed, labels it status=deployed and
// drops the one-shot annotations.
func (r *ModuleReconciler) markDeployed(ctx context.Context, mr *v1alpha1.ModuleRelease, res *registry.PullResult, took time.Duration) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha1.ModuleRelease
		if err := r.Client.Get(ctx, ctrl.ObjectKeyFromObject(mr), &cur); err != nil {
			return err
		}
		if cur.Labels == nil {
			cur.Labels = map[string]string{}
		}
		cur.Labels[v1alpha1.LabelStatus] = "deployed"
		for _, a := range []string{v1alpha1.AnnotationApplyNow, v1alpha1.AnnotationForce, v1alpha1.AnnotationReinstall, "release.deckhouse.io/apply-now", "release.deckhouse.io/force"} {
			delete(cur.Annotations, a)
		}
		return r.Client.Update(ctx, &cur)
	})
	if err != nil {
		return err
	}
	return r.updateReleaseStatus(ctx, mr, func(st *v1alpha1.ModuleReleaseStatus) {
		st.Phase, st.Message, st.Approved = v1alpha1.ModuleReleasePhaseDeployed, "", true
		if res != nil {
			st.PullDuration = &metav1.Duration{Duration: took}
		}
	})
}

func (r *ModuleReconciler) setDeployedLabel(ctx context.Context, mr *v1alpha1.ModuleRelease, on bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha1.ModuleRelease
		if err := r.Client.Get(ctx, ctrl.ObjectKeyFromObject(mr), &cur); err != nil {
			return ctrl.IgnoreNotFound(err)
		}
		_, has := cur.Labels[v1alpha1.LabelStatus]
		if has == on {
			return nil
		}
		if on {
			cur.Labels[v1alpha1.LabelStatus] = "deployed"
		} else {
			delete(cur.Labels, v1alpha1.LabelStatus)
		}
		return r.Client.Update(ctx, &cur)
	})
}

// setReleaseStatus writes phase, message and approved when they changed;
// a phase change is counted and recorded as an event.
func (r *ModuleReconciler) setReleaseStatus(ctx context.Context, mr *v1alpha1.ModuleRelease, phase, msg string, approved bool) error {
	if mr.Status.Phase == phase && mr.Status.Message == msg && mr.Status.Approved == approved {
		return nil
	}
	return r.updateReleaseStatus(ctx, mr, func(st *v1alpha1.ModuleReleaseStatus) {
		st.Phase, st.Message, st.Approved = phase, msg, approved
	})
}

func (r *ModuleReconciler) updateReleaseStatus(ctx context.Context, mr *v1alpha1.ModuleRelease, f func(*v1alpha1.ModuleReleaseStatus)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha1.ModuleRelease
		if err := r.Client.Get(ctx, ctrl.ObjectKeyFromObject(mr), &cur); err != nil {
			return ctrl.IgnoreNotFound(err)
		}
		before := cur.Status.Phase
		f(&cur.Status)
		if cur.Status.Phase != before {
			now := metav1.Now()
			cur.Status.TransitionTime = &now
		}
		if err := r.Client.Status().Update(ctx, &cur); err != nil {
			return err
		}
		if cur.Status.Phase != before {
			r.Metrics.transition(cur.Spec.ModuleName, cur.Status.Phase)
			if cur.Status.Phase != v1alpha1.ModuleReleasePhaseDeployed && cur.Status.Phase != v1alpha1.ModuleReleasePhaseSuspended {
				r.Recorder.Eventf(&cur, "Normal", cur.Status.Phase, "%s %s: %s", cur.Spec.ModuleName, cur.Spec.Version, cur.Status.Message)
			}
		}
		*mr = cur
		return nil
	})
}
