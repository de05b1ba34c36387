package release

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
)

// updateModule changes a Module's properties and status. The runtime owns
// the phase and its conditions of the modules it runs; the operator
// writes the phase only of modules that do not run, and its own
// conditions (LastReleaseDeployed, IsOverridden) always.
func (r *ModuleReconciler) updateModule(ctx context.Context, name string, props func(*v1alpha1.ModuleProperties), status func(*v1alpha1.ModuleStatus)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha1.Module
		if err := r.Client.Get(ctx, ctrl.ObjectKey{Name: name}, &cur); err != nil {
			return ctrl.IgnoreNotFound(err)
		}
		if props != nil {
			before := *cur.Properties.DeepCopy()
			props(&cur.Properties)
			if !equality.Semantic.DeepEqual(before, cur.Properties) {
				st := cur.Status
				if err := r.Client.Update(ctx, &cur); err != nil {
					return err
				}
				cur.Status = st
			}
		}
		if status != nil {
			before := *cur.Status.DeepCopy()
			status(&cur.Status)
			if !equality.Semantic.DeepEqual(before, cur.Status) {
				return r.Client.Status().Update(ctx, &cur)
			}
		}
		return nil
	})
}

// modulePhase shows the phase of a module the runtime does not run.
func (r *ModuleReconciler) modulePhase(ctx context.Context, name, phase, msg string) error {
	if r.Runner.ModuleVersionDir(name) != "" {
		return nil
	}
	return r.updateModule(ctx, name, nil, func(st *v1alpha1.ModuleStatus) {
		st.Phase = phase
		if msg != "" {
			setModuleCondition(st, v1alpha1.ModuleConditionIsReady, false, phase, msg)
		}
	})
}

// moduleDeployed records which source, version and weight run.
func (r *ModuleReconciler) moduleDeployed(ctx context.Context, mr *v1alpha1.ModuleRelease, policy string) error {
	version := mr.Spec.Version
	return r.updateModule(ctx, mr.Spec.ModuleName, func(p *v1alpha1.ModuleProperties) {
		p.Source, p.Version = mr.Labels[v1alpha1.LabelSource], version
		if mr.Spec.Weight != 0 {
			p.Weight = mr.Spec.Weight
		}
		if policy != "" {
			p.UpdatePolicy = policy
		}
	}, func(st *v1alpha1.ModuleStatus) {
		setModuleCondition(st, v1alpha1.ModuleConditionLastReleaseDeployed, true, "Deployed", version+" deployed")
		setModuleCondition(st, v1alpha1.ModuleConditionIsOverridden, false, "", "")
	})
}

func (r *ModuleReconciler) moduleCondition(ctx context.Context, name, typ string, ok bool, reason, msg string) error {
	return r.updateModule(ctx, name, nil, func(st *v1alpha1.ModuleStatus) { setModuleCondition(st, typ, ok, reason, msg) })
}

// setModuleCondition sets one condition; lastTransitionTime moves with its
// status only. An empty reason and a false status removes the condition.
func setModuleCondition(st *v1alpha1.ModuleStatus, typ string, ok bool, reason, msg string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != typ {
			continue
		}
		if !ok && reason == "" {
			st.Conditions = append(st.Conditions[:i], st.Conditions[i+1:]...)
			return
		}
		if c.Status != status {
			c.LastTransitionTime = metav1.Now()
		}
		c.Status, c.Reason, c.Message = status, reason, msg
		return
	}
	if !ok && reason == "" {
		return
	}
	st.Conditions = append(st.Conditions, v1alpha1.ModuleCondition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.Now()})
}
