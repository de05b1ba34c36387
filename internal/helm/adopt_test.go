package helm

import (
	"context"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// A release made the way Helm 3 and addon-operator made it (record by the
// plain Secret driver without an apply method, objects created client-side
// by the "helm" and "Go-http-client" managers, the checksum in the legacy
// values key) is upgraded without field-manager conflicts, and its new head
// stays readable by plain Helm.
func TestApplyAdoptsHelm3Release(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "adopt")
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cfg)
	dir := t.TempDir()
	writeChart(t, dir, "old", `{x: "1"}`)
	vals := func(v string) map[string]any { return map[string]any{"mod": map[string]any{"v": v}} }

	// The objects, as Helm 3 created them.
	anonCfg := rest.CopyConfig(cfg)
	anonCfg.UserAgent = "Go-http-client/2.0"
	anon := kubernetes.NewForConfigOrDie(anonCfg)
	helmMeta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name:        name,
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "Helm"},
			Annotations: map[string]string{"meta.helm.sh/release-name": "old", "meta.helm.sh/release-namespace": ns},
		}
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: helmMeta("old-a"), Data: map[string]string{"v": "helm3"}}, metav1.CreateOptions{FieldManager: "helm"}); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: helmMeta("old-b"), Data: map[string]string{"x": "1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The record, through Helm's plain Secret driver.
	ch, err := LoadModuleChart(dir, "old")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(ctx, Request{Chart: ch, ReleaseName: "old", Namespace: ns, Values: vals("helm3")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	config := vals("helm3")
	config[legacyChecksumKey] = "from-addon-operator"
	plain := driver.NewSecrets(cs.CoreV1().Secrets(ns))
	rel := &releasev1.Release{
		Name: "old", Namespace: ns, Version: 1, Chart: ch, Config: config, Manifest: out.String(),
		Info: &releasev1.Info{Status: common.StatusDeployed, FirstDeployed: now, LastDeployed: now, Description: "Install complete"},
	}
	if err := plain.Create("sh.helm.release.v1.old.v1", rel); err != nil {
		t.Fatal(err)
	}

	c, err := NewClient(cfg, ns)
	if err != nil {
		t.Fatal(err)
	}
	if rev, status, err := c.Status(ctx, "old"); err != nil || rev != 1 || status != "deployed" {
		t.Fatalf("Status of the Helm 3 release = %d %q %v", rev, status, err)
	}
	res, err := c.Apply(ctx, ApplyOptions{Release: "old", ChartDir: dir, Values: vals("deckhand")})
	if err != nil || !res.Upgraded || res.Revision != 2 {
		t.Fatalf("adopting: %+v %v", res, err)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "old-a", metav1.GetOptions{})
	if err != nil || cm.Data["v"] != "deckhand" {
		t.Fatalf("old-a = %v %v", cm.Data, err)
	}
	// Plain Helm reads the new revision; it stayed client-side.
	got, err := plain.Get("sh.helm.release.v1.old.v2")
	if err != nil {
		t.Fatalf("plain Helm reading revision 2: %v", err)
	}
	rel2, err := asRelease(got)
	if err != nil || rel2.Info.Status != common.StatusDeployed || rel2.ApplyMethod != string(releasev1.ApplyMethodClientSideApply) {
		t.Fatalf("revision 2: %+v %v", rel2, err)
	}
	res, err = c.Apply(ctx, ApplyOptions{Release: "old", ChartDir: dir, Values: vals("deckhand")})
	if err != nil || res.Upgraded || res.Revision != 2 {
		t.Fatalf("second apply: %+v %v", res, err)
	}
	// A value another client set is overwritten by the next upgrade.
	cm.Data["v"] = "edited"
	if _, err := anon.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	res, err = c.Apply(ctx, ApplyOptions{Release: "old", ChartDir: dir, Values: vals("again")})
	if err != nil || res.Revision != 3 {
		t.Fatalf("third apply: %+v %v", res, err)
	}
	if cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "old-a", metav1.GetOptions{}); err != nil || cm.Data["v"] != "again" {
		t.Fatalf("old-a = %v %v", cm.Data, err)
	}
}

// A release deckhand installed is applied server-side; a field another
// manager took over is taken back by the next upgrade instead of failing
// it with a conflict.
func TestApplyServerSideTakesConflictsBack(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "ssa")
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cfg)
	c, err := NewClient(cfg, ns)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeChart(t, dir, "ssa", `{x: "1"}`)
	vals := func(v string) map[string]any { return map[string]any{"mod": map[string]any{"v": v}} }
	if _, err := c.Apply(ctx, ApplyOptions{Release: "ssa", ChartDir: dir, Values: vals("one")}); err != nil {
		t.Fatal(err)
	}
	testenv.Apply(t, cfg, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa-a, namespace: "+ns+"}\ndata: {v: other}\n")
	res, err := c.Apply(ctx, ApplyOptions{Release: "ssa", ChartDir: dir, Values: vals("two")})
	if err != nil || res.Revision != 2 {
		t.Fatalf("upgrade over a conflict: %+v %v", res, err)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "ssa-a", metav1.GetOptions{})
	if err != nil || cm.Data["v"] != "two" {
		t.Fatalf("ssa-a = %v %v", cm.Data, err)
	}
	for _, mf := range cm.ManagedFields {
		if mf.Manager == FieldManager && mf.Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("deckhand manages ssa-a with %s, want Apply", mf.Operation)
		}
	}
}
