package release

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
)

func rel(version, phase string, ann ...string) v1alpha1.ModuleRelease {
	r := v1alpha1.ModuleRelease{ObjectMeta: metav1.ObjectMeta{Name: "m-" + version, Annotations: map[string]string{}}}
	r.Spec.ModuleName, r.Spec.Version, r.Status.Phase = "m", version, phase
	for _, a := range ann {
		r.Annotations[a] = "true"
	}
	return r
}

func phases(p Plan) map[string]string {
	out := map[string]string{}
	for _, s := range p.Steps {
		out[s.Release.Spec.Version] = s.Phase + ": " + s.Message
	}
	if p.Deploy != nil {
		out[p.Deploy.Spec.Version] = "deploy"
	}
	return out
}

// Monday 2026-11-30 12:00 UTC.
var monday = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestDecide(t *testing.T) {
	window := []v1alpha2.UpdateWindow{{From: "13:30", To: "14:00", Days: []v1alpha2.WeekDay{"Mon"}}}
	cases := []struct {
		name     string
		releases []v1alpha1.ModuleRelease
		pol      Policy
		want     map[string]string // version -> "deploy" or phase prefix
		requeue  bool
	}{
		{"first install ignores mode and window", []v1alpha1.ModuleRelease{rel("v1.0.0", "")},
			Policy{Mode: "Manual", Windows: window}, map[string]string{"v1.0.0": "deploy"}, false},
		{"auto update", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.1.0", "Pending")},
			DefaultPolicy(), map[string]string{"v1.1.0": "deploy"}, false},
		{"manual waits for approval", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.0.1", "Pending")},
			Policy{Mode: "Manual"}, map[string]string{"v1.0.1": "Pending: " + MsgWaitingApproval}, false},
		{"manual approved", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.0.1", "Pending", v1alpha1.AnnotationApproved)},
			Policy{Mode: "Manual"}, map[string]string{"v1.0.1": "deploy"}, false},
		{"autopatch takes patches", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.0.1", "Pending")},
			Policy{Mode: "AutoPatch"}, map[string]string{"v1.0.1": "deploy"}, false},
		{"autopatch holds minors", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.1.0", "Pending")},
			Policy{Mode: "AutoPatch"}, map[string]string{"v1.1.0": "Pending: " + MsgWaitingApproval}, false},
		{"window defers", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.1.0", "Pending")},
			Policy{Mode: "Auto", Windows: window}, map[string]string{"v1.1.0": "Pending: release is waiting for the update window"}, true},
		{"apply-now beats the window", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.1.0", "Pending", v1alpha1.AnnotationApplyNow)},
			Policy{Mode: "Auto", Windows: window}, map[string]string{"v1.1.0": "deploy"}, false},
		{"minors in order, patches collapse, old skipped", []v1alpha1.ModuleRelease{
			rel("v1.1.0", "Deployed"), rel("v1.0.5", "Pending"), rel("v1.2.0", "Pending"), rel("v1.2.1", "Pending"), rel("v1.3.0", "Pending")},
			DefaultPolicy(), map[string]string{"v1.0.5": "Skipped", "v1.2.0": "Skipped", "v1.2.1": "deploy", "v1.3.0": "Pending: awaiting for v1.2.1"}, false},
		{"a minor gap waits", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.2.0", "Pending")},
			DefaultPolicy(), map[string]string{"v1.2.0": "Pending: minor version is more than one ahead"}, false},
		{"force skips checks", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.3.0", "Pending", v1alpha1.AnnotationForce)},
			Policy{Mode: "Manual"}, map[string]string{"v1.3.0": "deploy"}, false},
		{"suspended stays", []v1alpha1.ModuleRelease{rel("v1.0.0", "Deployed"), rel("v1.1.0", "Suspended")},
			DefaultPolicy(), map[string]string{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Decide(tc.releases, tc.pol, Checks{Now: monday})
			got := phases(p)
			for v, want := range tc.want {
				if !strings.HasPrefix(got[v], want) {
					t.Errorf("%s: got %q, want %q...", v, got[v], want)
				}
			}
			if len(tc.want) == 0 && (p.Deploy != nil || len(p.Steps) > 0) {
				t.Errorf("want nothing, got %v", got)
			}
			if tc.requeue != (p.RequeueAfter > 0) {
				t.Errorf("requeue after %v", p.RequeueAfter)
			}
		})
	}
}

func TestRequirementsBlock(t *testing.T) {
	p := Decide([]v1alpha1.ModuleRelease{rel("v1.0.0", "")}, DefaultPolicy(), Checks{Now: monday,
		Requirements: func(*v1alpha1.ModuleRelease) error { return errString("kubernetes >= 1.40 (cluster 1.37.2)") }})
	if p.Deploy != nil || len(p.Steps) != 1 || !strings.Contains(p.Steps[0].Message, "requirements are not satisfied: kubernetes") {
		t.Fatalf("plan %+v", phases(p))
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestWindows(t *testing.T) {
	w := []v1alpha2.UpdateWindow{{From: "22:00", To: "02:00", Days: []v1alpha2.WeekDay{"Mon"}}}
	for at, want := range map[time.Time]bool{
		monday: false,
		monday.Add(10*time.Hour + 30*time.Minute): true,  // Mon 22:30
		monday.Add(13 * time.Hour):                true,  // Tue 01:00, Monday's window
		monday.Add(15 * time.Hour):                false, // Tue 03:00
	} {
		if got, err := InWindow(at, w); err != nil || got != want {
			t.Errorf("InWindow(%s) = %v, %v; want %v", at, got, err, want)
		}
	}
	if nw := NextWindow(monday, w); !nw.Equal(monday.Add(10 * time.Hour)) {
		t.Errorf("NextWindow = %s", nw)
	}
	if _, err := InWindow(monday, []v1alpha2.UpdateWindow{{From: "25:00", To: "26:00"}}); err == nil || !strings.Contains(err.Error(), "windows[0].from") {
		t.Errorf("bad window error = %v", err)
	}
	if ChannelTag("EarlyAccess") != "early-access" || ChannelTag("RockSolid") != "rock-solid" || ChannelTag("Lts") != "lts" {
		t.Error("ChannelTag")
	}
}
