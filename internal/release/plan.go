package release

import (
	"fmt"
	"sort"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
)

// Messages a waiting release shows in status.message (DKP's where it has one).
const (
	MsgWaitingApproval = `Release is waiting for the 'modules.deckhouse.io/approved: "true"' annotation`
	msgAwaiting        = "awaiting for %s release to be deployed"
)

// Step is what Decide wants done with one release.
type Step struct {
	Release *v1alpha1.ModuleRelease
	// Phase is the phase the release should have now.
	Phase string
	// Message is its status.message.
	Message string
	// Approved is status.approved: nothing stands between it and a deploy
	// but its turn, its window or its requirements.
	Approved bool
}

// Plan is Decide's answer for one module.
type Plan struct {
	// Deploy is the release to deploy now (nil: none).
	Deploy *v1alpha1.ModuleRelease
	// Steps are status changes for the other releases (Skipped, waiting).
	Steps []Step
	// RequeueAfter asks to look again when a window opens or applyAfter passes.
	RequeueAfter time.Duration
}

// Checks are the inputs of Decide that come from outside the releases.
type Checks struct {
	Now time.Time
	// Requirements returns why a release cannot run here (Kubernetes
	// version, other modules), nil when it can.
	Requirements func(*v1alpha1.ModuleRelease) error
}

// Decide applies DKP's release rules to one module's releases:
//   - a pending release not newer than the deployed one is Skipped;
//   - of several pending patches of one minor only the newest is applied,
//     the older ones are Skipped; minors go strictly in order (a release
//     more than one minor ahead waits for the one between);
//   - the first install of a module is not an update: it needs no
//     approval and waits for no window (the module was just enabled);
//   - an update needs the approval annotation in Manual mode, and for a
//     new minor in AutoPatch mode; it waits for applyAfter and the
//     policy's windows unless it has the apply-now annotation;
//   - requirements must hold;
//   - the force annotation deploys skipping every check.
//
// Releases after the one being considered wait for it.
func Decide(releases []v1alpha1.ModuleRelease, pol Policy, c Checks) Plan {
	var deployed *v1alpha1.ModuleRelease
	var deployedV *semver.Version
	type cand struct {
		r *v1alpha1.ModuleRelease
		v *semver.Version
	}
	var pending []cand
	var plan Plan
	for i := range releases {
		r := &releases[i]
		v, err := semver.NewVersion(r.Spec.Version)
		if err != nil {
			if r.Status.Phase != v1alpha1.ModuleReleasePhaseSuspended {
				plan.Steps = append(plan.Steps, Step{Release: r, Phase: v1alpha1.ModuleReleasePhaseSuspended, Message: fmt.Sprintf("spec.version %q is not a semantic version", r.Spec.Version)})
			}
			continue
		}
		switch r.Status.Phase {
		case v1alpha1.ModuleReleasePhaseDeployed:
			if deployedV == nil || v.GreaterThan(deployedV) {
				deployed, deployedV = r, v
			}
		case "", v1alpha1.ModuleReleasePhasePending:
			pending = append(pending, cand{r, v})
		}
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].v.LessThan(pending[j].v) })
	var live []cand
	for _, p := range pending {
		if deployedV != nil && !p.v.GreaterThan(deployedV) {
			plan.Steps = append(plan.Steps, Step{Release: p.r, Phase: v1alpha1.ModuleReleasePhaseSkipped, Message: fmt.Sprintf("version is not newer than the deployed %s", deployed.Spec.Version)})
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return plan
	}
	// The lowest minor goes first, at its newest patch.
	first := 0
	for first+1 < len(live) && live[first+1].v.Major() == live[0].v.Major() && live[first+1].v.Minor() == live[0].v.Minor() {
		plan.Steps = append(plan.Steps, Step{Release: live[first].r, Phase: v1alpha1.ModuleReleasePhaseSkipped, Message: fmt.Sprintf("superseded by %s of the same minor", live[first+1].r.Spec.Version)})
		first++
	}
	next := live[first]
	wait := func(msg string, approved bool) {
		plan.Steps = append(plan.Steps, Step{Release: next.r, Phase: v1alpha1.ModuleReleasePhasePending, Message: msg, Approved: approved})
	}
	for _, later := range live[first+1:] {
		plan.Steps = append(plan.Steps, Step{Release: later.r, Phase: v1alpha1.ModuleReleasePhasePending, Message: fmt.Sprintf(msgAwaiting, next.r.Spec.Version)})
	}
	ann := next.r.Annotations
	if ann[v1alpha1.AnnotationForce] == "true" || ann["release.deckhouse.io/force"] == "true" {
		plan.Deploy = next.r
		return plan
	}
	if deployedV != nil {
		if gap := minorGap(deployedV, next.v); gap != "" {
			wait(gap, false)
			return plan
		}
	}
	if c.Requirements != nil {
		if err := c.Requirements(next.r); err != nil {
			wait("requirements are not satisfied: "+err.Error(), false)
			return plan
		}
	}
	if deployedV == nil {
		plan.Deploy = next.r
		return plan
	}
	patch := next.v.Major() == deployedV.Major() && next.v.Minor() == deployedV.Minor()
	approved := ann[v1alpha1.AnnotationApproved] == "true" || ann["release.deckhouse.io/approved"] == "true"
	switch pol.Mode {
	case v1alpha2.UpdateModeManual:
	case v1alpha2.UpdateModeAutoPatch:
		approved = approved || patch
	case "Ignore":
		wait("update mode Ignore: updates are not applied", false)
		return plan
	default:
		approved = true
	}
	if !approved {
		wait(MsgWaitingApproval, false)
		return plan
	}
	applyNow := ann[v1alpha1.AnnotationApplyNow] == "true" || ann["release.deckhouse.io/apply-now"] == "true"
	if !applyNow {
		if aa := next.r.Spec.ApplyAfter; aa != nil && c.Now.Before(aa.Time) {
			wait(fmt.Sprintf("release is postponed until %s", aa.UTC().Format(time.RFC3339)), true)
			plan.RequeueAfter = aa.Sub(c.Now)
			return plan
		}
		in, err := InWindow(c.Now, pol.Windows)
		if err != nil {
			wait(fmt.Sprintf("update policy %s: %v", pol.Name, err), true)
			return plan
		}
		if !in {
			msg := "release is waiting for the update window"
			if nw := NextWindow(c.Now, pol.Windows); !nw.IsZero() {
				msg += fmt.Sprintf(" (%s, next at %s)", WindowsString(pol.Windows), nw.Format(time.RFC3339))
				plan.RequeueAfter = nw.Sub(c.Now)
			}
			wait(msg, true)
			return plan
		}
	}
	plan.Deploy = next.r
	return plan
}

// minorGap says why next may not follow deployed yet ("" when it may):
// minors (and majors) go one at a time.
func minorGap(deployed, next *semver.Version) string {
	switch {
	case next.Major() == deployed.Major() && next.Minor() > deployed.Minor()+1:
		return fmt.Sprintf("minor version is more than one ahead of the deployed %s: waiting for a v%d.%d release", deployed.Original(), deployed.Major(), deployed.Minor()+1)
	case next.Major() > deployed.Major()+1:
		return fmt.Sprintf("major version is more than one ahead of the deployed %s", deployed.Original())
	}
	return ""
}
