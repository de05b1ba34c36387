package release

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/Masterminds/semver/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
)

// Report is everything a person asks about one module, from the objects
// the operator and the runtime keep: which source and version run, the
// release history, the policy, the next update and why it is not Ready.
type Report struct {
	Module   string          `json:"module"`
	Enabled  bool            `json:"enabled"`
	Source   string          `json:"source,omitempty"`
	Version  string          `json:"version,omitempty"`
	Phase    string          `json:"phase,omitempty"`
	Ready    bool            `json:"ready"`
	Policy   *PolicyReport   `json:"policy,omitempty"`
	Override *OverrideReport `json:"override,omitempty"`
	// NotReady says why the module is not Ready: the failing hook,
	// template or check with its message ("" when Ready).
	NotReady string `json:"notReady,omitempty"`
	// Next is the update the module waits for and what it waits on.
	Next     string          `json:"next,omitempty"`
	Releases []ReleaseReport `json:"releases,omitempty"`
	// AvailableSources offer the module.
	AvailableSources []string `json:"availableSources,omitempty"`
}

// PolicyReport is the update policy a module follows.
type PolicyReport struct {
	Name    string `json:"name"`
	Channel string `json:"channel"`
	Mode    string `json:"mode"`
	Windows string `json:"windows,omitempty"`
}

// OverrideReport is a ModulePullOverride in force.
type OverrideReport struct {
	ImageTag string `json:"imageTag"`
	Digest   string `json:"digest,omitempty"`
	Message  string `json:"message,omitempty"`
}

// ReleaseReport is one ModuleRelease.
type ReleaseReport struct {
	Name    string     `json:"name"`
	Version string     `json:"version"`
	Phase   string     `json:"phase"`
	Message string     `json:"message,omitempty"`
	Since   *time.Time `json:"since,omitempty"`
}

// Explain builds the Report of one module; a module without a Module
// object is an error that says so.
func Explain(ctx context.Context, c ctrl.Client, name string) (*Report, error) {
	var mod v1alpha1.Module
	if err := c.Get(ctx, ctrl.ObjectKey{Name: name}, &mod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("module %q not found: `kubectl get modules` lists the modules the cluster knows (a ModuleSource offers them, or the runtime runs them)", name)
		}
		return nil, err
	}
	rep := &Report{Module: name, Source: mod.Properties.Source, Version: mod.Properties.Version, Phase: mod.Status.Phase, AvailableSources: mod.Properties.AvailableSources}
	for _, cond := range mod.Status.Conditions {
		switch cond.Type {
		case v1alpha1.ModuleConditionIsReady:
			rep.Ready = cond.Status == "True"
			if !rep.Ready && cond.Message != "" {
				rep.NotReady = cond.Reason + ": " + cond.Message
			}
		case v1alpha1.ModuleConditionEnabledByModuleManager:
			rep.Enabled = cond.Status == "True"
		}
	}
	if le := mod.Status.LastError; le != nil {
		where := "module"
		switch {
		case le.Hook != "":
			where = "hook " + le.Hook
		case le.Template != "":
			where = "template " + le.Template
		}
		rep.NotReady = where + ": " + le.Message
	}
	var mc v1alpha1.ModuleConfig
	mcp := &mc
	if err := c.Get(ctx, ctrl.ObjectKey{Name: name}, &mc); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
		mcp = nil
	}
	if mcp != nil && mc.Spec.Enabled != nil && *mc.Spec.Enabled {
		rep.Enabled = true
	}
	if rep.Source != v1alpha1.ModuleSourceEmbedded {
		if pol, err := ResolvePolicy(ctx, c, mcp); err == nil {
			pr := &PolicyReport{Name: pol.Name, Channel: pol.Channel, Mode: pol.Mode, Windows: WindowsString(pol.Windows)}
			if pr.Name == "" {
				pr.Name = "(default)"
			}
			rep.Policy = pr
		} else {
			rep.Next = err.Error()
		}
	}
	var mpo v1alpha2.ModulePullOverride
	if err := c.Get(ctx, ctrl.ObjectKey{Name: name}, &mpo); err == nil {
		rep.Override = &OverrideReport{ImageTag: mpo.Spec.ImageTag, Digest: mpo.Status.ImageDigest, Message: mpo.Status.Message}
	}
	var list v1alpha1.ModuleReleaseList
	if err := c.List(ctx, &list, ctrl.MatchingLabels{v1alpha1.LabelModule: name}); err != nil {
		return nil, err
	}
	sort.Slice(list.Items, func(i, j int) bool {
		vi, ei := semver.NewVersion(list.Items[i].Spec.Version)
		vj, ej := semver.NewVersion(list.Items[j].Spec.Version)
		if ei != nil || ej != nil {
			return list.Items[i].Name < list.Items[j].Name
		}
		return vi.GreaterThan(vj)
	})
	for _, mr := range list.Items {
		rr := ReleaseReport{Name: mr.Name, Version: mr.Spec.Version, Phase: mr.Status.Phase, Message: mr.Status.Message}
		if mr.Status.TransitionTime != nil {
			t := mr.Status.TransitionTime.UTC()
			rr.Since = &t
		}
		rep.Releases = append(rep.Releases, rr)
	}
	// The next update is the oldest pending release (the one whose turn it is).
	for i := len(rep.Releases) - 1; i >= 0; i-- {
		if r := rep.Releases[i]; r.Phase == v1alpha1.ModuleReleasePhasePending || r.Phase == "" {
			rep.Next = r.Version
			if r.Message != "" {
				rep.Next += ": " + r.Message
			}
			break
		}
	}
	if rep.NotReady == "" && !rep.Ready && rep.Enabled {
		for _, r := range rep.Releases {
			if r.Phase == v1alpha1.ModuleReleasePhaseSuspended {
				rep.NotReady = "release " + r.Version + " suspended: " + r.Message
				break
			}
		}
	}
	return rep, nil
}

// ExplainAll reports every module the cluster knows, by name.
func ExplainAll(ctx context.Context, c ctrl.Client) ([]*Report, error) {
	var mods v1alpha1.ModuleList
	if err := c.List(ctx, &mods); err != nil {
		return nil, err
	}
	sort.Slice(mods.Items, func(i, j int) bool { return mods.Items[i].Name < mods.Items[j].Name })
	out := make([]*Report, 0, len(mods.Items))
	for _, m := range mods.Items {
		r, err := Explain(ctx, c, m.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
