package release

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/registry"
)

// DefaultScanInterval is how often a ModuleSource is scanned (DKP's).
const DefaultScanInterval = 3 * time.Minute

// Source status messages and condition.
const (
	msgSomeErrors      = "Some errors occurred. Inspect status for details"
	ConditionScanned   = "Scanned"
	msgSeveralSources  = "several available sources"
	reasonRegistryErr  = "RegistryError"
	reasonScanned      = "Scanned"
	sourceErrorRequeue = time.Minute
	// scanParallelism bounds the modules of one source synced at once.
	scanParallelism = 8
)

// SourceReconciler scans one ModuleSource: its module catalogue becomes
// Module objects (phase Available, availableSources), and for every module
// enabled from it, the release behind its policy's channel becomes a
// ModuleRelease (with the releases between the deployed version and it).
type SourceReconciler struct {
	Client     ctrl.Client
	Registries *Registries
	// Interval is the scan period (DefaultScanInterval).
	Interval time.Duration
	Recorder record.EventRecorder
	Metrics  *Metrics
	Log      *slog.Logger
}

// Reconcile scans the source named by req.
func (r *SourceReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultScanInterval
	}
	var ms v1alpha1.ModuleSource
	if err := r.Client.Get(ctx, req.NamespacedName, &ms); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, r.forgetSource(ctx, req.Name)
		}
		return reconcile.Result{}, err
	}
	if !ms.DeletionTimestamp.IsZero() {
		return reconcile.Result{RequeueAfter: sourceErrorRequeue}, r.finalize(ctx, &ms)
	}
	if err := r.ensureFinalizer(ctx, &ms); err != nil {
		return reconcile.Result{}, err
	}
	start := time.Now()
	names, c, err := r.list(ctx, &ms)
	if err != nil {
		r.Metrics.scan(ms.Name, "error", time.Since(start))
		r.Recorder.Eventf(&ms, "Warning", reasonRegistryErr, "listing modules of %s: %v", ms.Spec.Registry.Repo, err)
		r.Log.Warn("module source scan failed", "source", ms.Name, "error", err)
		return reconcile.Result{RequeueAfter: min(interval, sourceErrorRequeue)}, r.writeStatus(ctx, &ms, func(st *v1alpha1.ModuleSourceStatus) {
			st.Phase = v1alpha1.ModuleSourcePhaseActive
			st.Message = "registry: " + err.Error()
			setCondition(&st.Conditions, ms.Generation, ConditionScanned, false, reasonRegistryErr, err.Error())
		})
	}
	configs, err := r.configs(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	// Modules are independent: a few at a time, so a large source is not
	// one long chain of API and registry round trips.
	entries := make([]v1alpha1.AvailableModule, len(names))
	var wg sync.WaitGroup
	slots := make(chan struct{}, scanParallelism)
	for i, name := range names {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			entries[i] = r.syncModule(ctx, c, &ms, name, configs[name])
		})
	}
	wg.Wait()
	failed := 0
	for _, e := range entries {
		if e.PullError != "" || e.Error != "" {
			failed++
		}
	}
	r.Metrics.scan(ms.Name, "ok", time.Since(start))
	r.Metrics.sourceModules.WithLabelValues(ms.Name).Set(float64(len(names)))
	now := metav1.Now()
	return reconcile.Result{RequeueAfter: interval}, r.writeStatus(ctx, &ms, func(st *v1alpha1.ModuleSourceStatus) {
		st.Phase = v1alpha1.ModuleSourcePhaseActive
		st.SyncTime = &now
		st.ModulesCount = len(names)
		st.Modules = entries
		st.Message = ""
		if failed > 0 {
			st.Message = msgSomeErrors
		}
		setCondition(&st.Conditions, ms.Generation, ConditionScanned, true, reasonScanned, fmt.Sprintf("%d modules, %d with errors", len(names), failed))
	})
}

func (r *SourceReconciler) list(ctx context.Context, ms *v1alpha1.ModuleSource) ([]string, *registry.Client, error) {
	c, err := r.Registries.For(ms.Spec.Registry)
	if err != nil {
		return nil, nil, err
	}
	names, err := c.ListModules(ctx, ms.Spec.Registry.Repo)
	return names, c, err
}

func (r *SourceReconciler) configs(ctx context.Context) (map[string]*v1alpha1.ModuleConfig, error) {
	var list v1alpha1.ModuleConfigList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil, err
	}
	out := make(map[string]*v1alpha1.ModuleConfig, len(list.Items))
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out, nil
}

// syncModule registers one module of the source and, when it is enabled
// from this source, its releases; the entry says what was seen.
func (r *SourceReconciler) syncModule(ctx context.Context, c *registry.Client, ms *v1alpha1.ModuleSource, name string, mc *v1alpha1.ModuleConfig) v1alpha1.AvailableModule {
	entry := v1alpha1.AvailableModule{Name: name}
	mod, err := r.registerModule(ctx, ms.Name, name)
	if err != nil {
		entry.Error = err.Error()
		return entry
	}
	if mod.Properties.Source == v1alpha1.ModuleSourceEmbedded {
		entry.Error = "the module is embedded: the embedded version runs"
		return entry
	}
	var mpo v1alpha2.ModulePullOverride
	entry.Overridden = r.Client.Get(ctx, ctrl.ObjectKey{Name: name}, &mpo) == nil
	if mc == nil || mc.Spec.Enabled == nil || !*mc.Spec.Enabled {
		return entry
	}
	active, conflict := ActiveSource(mod, mc)
	if conflict {
		entry.Error = msgSeveralSources + ": set spec.source in ModuleConfig " + name
		return entry
	}
	if active != ms.Name {
		return entry
	}
	pol, err := ResolvePolicy(ctx, r.Client, mc)
	if err != nil {
		entry.PullError = err.Error()
		return entry
	}
	entry.Policy = pol.Name
	rel, err := c.FetchRelease(ctx, ms.Spec.Registry.Repo, name, ChannelTag(pol.Channel))
	if err != nil {
		entry.PullError = err.Error()
		return entry
	}
	entry.Version, entry.Checksum = rel.Version, checksum(rel.Digest)
	if err := r.ensureReleases(ctx, c, ms, rel, pol); err != nil {
		entry.PullError = err.Error()
	}
	return entry
}

// ActiveSource picks the source a module's releases come from: the
// ModuleConfig's spec.source, else its only available source; conflict
// when several offer it and none was chosen.
func ActiveSource(mod *v1alpha1.Module, mc *v1alpha1.ModuleConfig) (string, bool) {
	if mc != nil && mc.Spec.Source != "" {
		return mc.Spec.Source, false
	}
	switch len(mod.Properties.AvailableSources) {
	case 0:
		return "", false
	case 1:
		return mod.Properties.AvailableSources[0], false
	}
	return "", true
}

// ResolvePolicy reads the policy a ModuleConfig names, or the default.
func ResolvePolicy(ctx context.Context, c ctrl.Client, mc *v1alpha1.ModuleConfig) (Policy, error) {
	if mc == nil || mc.Spec.UpdatePolicy == "" {
		return DefaultPolicy(), nil
	}
	var p v1alpha2.ModuleUpdatePolicy
	if err := c.Get(ctx, ctrl.ObjectKey{Name: mc.Spec.UpdatePolicy}, &p); err != nil {
		if apierrors.IsNotFound(err) {
			return Policy{}, fmt.Errorf("Update policy %s not found", mc.Spec.UpdatePolicy) //nolint:staticcheck // DKP's message
		}
		return Policy{}, err
	}
	return PolicyFrom(&p), nil
}

// registerModule creates the Module object of a source module or adds the
// source to its availableSources.
func (r *SourceReconciler) registerModule(ctx context.Context, source, name string) (*v1alpha1.Module, error) {
	var mod v1alpha1.Module
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		err := r.Client.Get(ctx, ctrl.ObjectKey{Name: name}, &mod)
		if apierrors.IsNotFound(err) {
			mod = v1alpha1.Module{ObjectMeta: metav1.ObjectMeta{Name: name}}
			mod.Properties.AvailableSources = []string{source}
			if err := r.Client.Create(ctx, &mod); err != nil {
				return err
			}
			mod.Status.Phase = v1alpha1.ModulePhaseAvailable
			return r.Client.Status().Update(ctx, &mod)
		}
		if err != nil {
			return err
		}
		if slices.Contains(mod.Properties.AvailableSources, source) || mod.Properties.Source == v1alpha1.ModuleSourceEmbedded {
			return nil
		}
		mod.Properties.AvailableSources = append(mod.Properties.AvailableSources, source)
		sort.Strings(mod.Properties.AvailableSources)
		return r.Client.Update(ctx, &mod)
	})
	if err != nil {
		return nil, fmt.Errorf("Module %s: %w", name, err) //nolint:staticcheck // names the kind
	}
	return &mod, nil
}

// ensureReleases creates the ModuleRelease of the channel's version and,
// when a version is deployed, of every version between the two (minors go
// in order, so an update across several minors needs them).
func (r *SourceReconciler) ensureReleases(ctx context.Context, c *registry.Client, ms *v1alpha1.ModuleSource, target *registry.Release, pol Policy) error {
	module := target.Module
	var list v1alpha1.ModuleReleaseList
	if err := r.Client.List(ctx, &list, ctrl.MatchingLabels{v1alpha1.LabelModule: module}); err != nil {
		return err
	}
	have := map[string]bool{}
	var deployed *semver.Version
	for _, mr := range list.Items {
		have[mr.Spec.Version] = true
		if mr.Status.Phase == v1alpha1.ModuleReleasePhaseDeployed {
			if v, err := semver.NewVersion(mr.Spec.Version); err == nil && (deployed == nil || v.GreaterThan(deployed)) {
				deployed = v
			}
		}
	}
	if have[target.Version] {
		return nil
	}
	tv, err := semver.NewVersion(target.Version)
	if err != nil {
		return fmt.Errorf("release %s: %w", target.Version, err)
	}
	if deployed != nil && !tv.GreaterThan(deployed) {
		return nil // the channel went back: never a downgrade
	}
	releases := []*registry.Release{target}
	if deployed != nil && (tv.Major() != deployed.Major() || tv.Minor() > deployed.Minor()+1) {
		tags, err := c.Tags(ctx, ms.Spec.Registry.Repo, module)
		if err != nil {
			return err
		}
		for _, vt := range tags.Versions {
			v, err := semver.NewVersion(vt.Version)
			if err != nil || !vt.Release || !vt.Bundle || have[vt.Version] || !v.GreaterThan(deployed) || !v.LessThan(tv) {
				continue
			}
			rel, err := c.FetchRelease(ctx, ms.Spec.Registry.Repo, module, vt.Version)
			if err != nil {
				return err
			}
			releases = append(releases, rel)
		}
	}
	for _, rel := range releases {
		mr := newModuleRelease(ms, rel, pol)
		if err := r.Client.Create(ctx, mr); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating ModuleRelease %s: %w", mr.Name, err)
		}
		r.Recorder.Eventf(mr, "Normal", "Created", "release %s of module %s from source %s (channel %s)", rel.Version, module, ms.Name, pol.Channel)
		r.Metrics.transition(module, v1alpha1.ModuleReleasePhasePending)
	}
	return nil
}

func newModuleRelease(ms *v1alpha1.ModuleSource, rel *registry.Release, pol Policy) *v1alpha1.ModuleRelease {
	t := true
	mr := &v1alpha1.ModuleRelease{
		ObjectMeta: metav1.ObjectMeta{
			Name: rel.Module + "-" + rel.Version,
			Labels: map[string]string{
				v1alpha1.LabelModule:          rel.Module,
				v1alpha1.LabelSource:          ms.Name,
				v1alpha1.LabelReleaseChecksum: checksum(rel.Digest),
				v1alpha1.LabelUpdatePolicy:    pol.Name,
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.ModuleSourceKind,
				Name: ms.Name, UID: ms.UID, BlockOwnerDeletion: &t,
			}},
		},
		Spec: v1alpha1.ModuleReleaseSpec{ModuleName: rel.Module, Version: rel.Version},
	}
	if len(rel.Changelog) > 0 {
		if data, err := json.Marshal(rel.Changelog); err == nil {
			mr.Spec.Changelog = &apiextensionsv1.JSON{Raw: data}
		}
	}
	if len(rel.ModuleYAML) > 0 {
		// A module.yaml that does not parse is the linter's business; the
		// release just goes without its metadata.
		if def, _, _ := module.ParseDefinition("module.yaml", rel.ModuleYAML); def != nil {
			if def.Weight != nil {
				mr.Spec.Weight = *def.Weight
			}
			if q := def.Requirements; q != nil {
				mr.Spec.Requirements = &v1alpha1.ModuleReleaseRequirements{Deckhouse: q.Deckhouse, Kubernetes: q.Kubernetes, Modules: q.Modules}
			}
			if u := def.Update; u != nil && len(u.Versions) > 0 {
				mr.Spec.Update = &v1alpha1.ModuleReleaseUpdate{}
				for _, v := range u.Versions {
					mr.Spec.Update.Versions = append(mr.Spec.Update.Versions, v1alpha1.ModuleReleaseUpdateVersion{From: v.From, To: v.To})
				}
			}
		}
	}
	return mr
}

// forgetSource takes a deleted source out of its modules' availableSources.
func (r *SourceReconciler) forgetSource(ctx context.Context, source string) error {
	var mods v1alpha1.ModuleList
	if err := r.Client.List(ctx, &mods); err != nil {
		return err
	}
	for i := range mods.Items {
		m := &mods.Items[i]
		if !slices.Contains(m.Properties.AvailableSources, source) {
			continue
		}
		m.Properties.AvailableSources = slices.DeleteFunc(m.Properties.AvailableSources, func(s string) bool { return s == source })
		if err := r.Client.Update(ctx, m); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
}

func (r *SourceReconciler) writeStatus(ctx context.Context, ms *v1alpha1.ModuleSource, f func(*v1alpha1.ModuleSourceStatus)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha1.ModuleSource
		if err := r.Client.Get(ctx, ctrl.ObjectKeyFromObject(ms), &cur); err != nil {
			return ctrl.IgnoreNotFound(err)
		}
		f(&cur.Status)
		if sum := SpecChecksum(cur.Spec.Registry); cur.Annotations[v1alpha1.AnnotationRegistrySpecChecksum] != sum {
			if cur.Annotations == nil {
				cur.Annotations = map[string]string{}
			}
			cur.Annotations[v1alpha1.AnnotationRegistrySpecChecksum] = sum
			st := cur.Status
			if err := r.Client.Update(ctx, &cur); err != nil {
				return err
			}
			cur.Status = st
		}
		return r.Client.Status().Update(ctx, &cur)
	})
}

// checksum is DKP's release-checksum: md5 of the release image digest.
func checksum(digest string) string { return registry.ReleaseChecksum(digest) }

// setCondition sets a metav1.Condition, moving lastTransitionTime only when
// the status changes.
func setCondition(conds *[]metav1.Condition, gen int64, typ string, ok bool, reason, msg string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen})
}
