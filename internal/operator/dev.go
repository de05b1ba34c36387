package operator

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
	"github.com/deckhand-dev/deckhand/internal/release"
)

// DevPolicy is the update policy `deckhand dev` binds its modules to:
// every new version on the channel rolls out at once.
const DevPolicy = "deckhand-dev"

// DevSource is what `deckhand dev` applies so that modules run from a
// module source: the source, an Auto policy on channel, and an enabled
// ModuleConfig per module naming both.
type DevSource struct {
	Name    string
	Repo    string
	Channel string // CR form, e.g. Stable
	Modules []string
	// PublicKey, when set, makes the source enforce signatures by it.
	PublicKey []byte
}

// ApplyDev creates or updates the objects of d.
func ApplyDev(ctx context.Context, c client.Client, d DevSource) error {
	ms := &v1alpha1.ModuleSource{ObjectMeta: metav1.ObjectMeta{Name: d.Name}}
	if err := upsert(ctx, c, ms, func() {
		ms.Spec.Registry = v1alpha1.ModuleSourceRegistry{Repo: d.Repo, Scheme: "HTTP"}
		if len(d.PublicKey) > 0 {
			ms.Spec.Verification = &v1alpha1.ModuleSourceVerification{Mode: v1alpha1.VerificationEnforce, PublicKeys: []string{string(d.PublicKey)}}
		}
	}); err != nil {
		return err
	}
	mup := &v1alpha2.ModuleUpdatePolicy{ObjectMeta: metav1.ObjectMeta{Name: DevPolicy}}
	if err := upsert(ctx, c, mup, func() {
		mup.Spec.ReleaseChannel, mup.Spec.Update.Mode = d.Channel, v1alpha2.UpdateModeAuto
	}); err != nil {
		return err
	}
	for _, m := range d.Modules {
		mc := &v1alpha1.ModuleConfig{ObjectMeta: metav1.ObjectMeta{Name: m}}
		if err := upsert(ctx, c, mc, func() {
			on := true
			mc.Spec.Enabled, mc.Spec.Source, mc.Spec.UpdatePolicy = &on, d.Name, DevPolicy
		}); err != nil {
			return err
		}
	}
	return nil
}

// upsert gets obj by name, applies mutate and creates or updates it.
func upsert(ctx context.Context, c client.Client, obj client.Object, mutate func()) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		switch {
		case apierrors.IsNotFound(err):
			mutate()
			return c.Create(ctx, obj)
		case err != nil:
			return err
		}
		mutate()
		return c.Update(ctx, obj)
	})
}

// WaitServing waits until each module has a Deployed release (or an
// override) and is Ready, and returns their reports; on timeout the error
// names the modules that are not, with why.
func WaitServing(ctx context.Context, c client.Client, modules []string, timeout time.Duration) ([]*release.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	var waiting []string
	for {
		var reps []*release.Report
		var now, failed []string
		for _, m := range modules {
			r, err := release.Explain(ctx, c, m)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				now = append(now, m+": "+err.Error())
				continue
			}
			reps = append(reps, r)
			if r.Ready && hasDeployed(r) {
				continue
			}
			why := r.NotReady
			if why == "" {
				why = "phase " + r.Phase
			}
			if r.Next != "" {
				why += "; next " + r.Next
			}
			now = append(now, m+": "+why)
			// A first release that was suspended will not serve by waiting.
			if !hasDeployed(r) && len(r.Releases) > 0 && r.Releases[0].Phase == v1alpha1.ModuleReleasePhaseSuspended {
				failed = append(failed, m+": release "+r.Releases[0].Version+" suspended: "+r.Releases[0].Message)
			}
		}
		if ctx.Err() == nil {
			waiting = now
		}
		if len(waiting) == 0 && ctx.Err() == nil {
			sort.Slice(reps, func(i, j int) bool { return reps[i].Module < reps[j].Module })
			return reps, nil
		}
		if len(failed) > 0 {
			return reps, fmt.Errorf("modules that will not serve:\n  %s", strings.Join(failed, "\n  "))
		}
		select {
		case <-ctx.Done():
			return reps, fmt.Errorf("modules not serving after %s:\n  %s", timeout, strings.Join(waiting, "\n  "))
		case <-t.C:
		}
	}
}

func hasDeployed(r *release.Report) bool {
	if r.Override != nil {
		return true
	}
	for _, rr := range r.Releases {
		if rr.Phase == v1alpha1.ModuleReleasePhaseDeployed {
			return true
		}
	}
	return false
}

// WaitVersion waits until module serves version (Ready), or a release of
// that version is Suspended (the error gives its reason).
func WaitVersion(ctx context.Context, c client.Client, module, version string, timeout time.Duration) (*release.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := release.Explain(ctx, c, module)
		if err == nil {
			if r.Version == version && r.Ready {
				return r, nil
			}
			for _, rr := range r.Releases {
				if rr.Version == version && rr.Phase == v1alpha1.ModuleReleasePhaseSuspended {
					return r, fmt.Errorf("release %s suspended: %s", version, rr.Message)
				}
			}
		}
		select {
		case <-ctx.Done():
			if r != nil {
				return r, fmt.Errorf("%s does not serve %s after %s (it serves %s; %s)", module, version, timeout, r.Version, r.Next)
			}
			return nil, fmt.Errorf("%s does not serve %s after %s: %v", module, version, timeout, err)
		case <-t.C:
		}
	}
}
