package helm

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v4/pkg/release/common"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func writeChart(t *testing.T, dir, name, data string) {
	t.Helper()
	testenv.WriteFiles(t, dir, map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n",
		"templates/a.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: ` + name + `-a}
data: {v: {{ .Values.mod.v | quote }}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ` + name + `-b}
data: ` + data + `
`,
		"hooks/big-binary": "not part of the chart",
	})
}

func TestApplyLifecycle(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "helm")
	cs := kubernetes.NewForConfigOrDie(cfg)
	c, err := NewClient(cfg, ns)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	writeChart(t, dir, "life", `{x: "1"}`)
	vals := func(v string) map[string]any { return map[string]any{"mod": map[string]any{"v": v}} }
	cmV := func(name string) (string, bool) {
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		return cm.Data["v"] + cm.Data["x"], true
	}

	res, err := c.Apply(ctx, ApplyOptions{Release: "life", ChartDir: dir, Values: vals("one")})
	if err != nil || !res.Upgraded || res.Revision != 1 {
		t.Fatalf("install: %+v %v", res, err)
	}
	if v, _ := cmV("life-a"); v != "one" {
		t.Fatalf("life-a = %q", v)
	}
	res, err = c.Apply(ctx, ApplyOptions{Release: "life", ChartDir: dir, Values: vals("one")})
	if err != nil || res.Upgraded || res.Revision != 1 {
		t.Fatalf("same inputs upgraded: %+v %v", res, err)
	}
	res, err = c.Apply(ctx, ApplyOptions{Release: "life", ChartDir: dir, Values: vals("two")})
	if err != nil || !res.Upgraded || res.Revision != 2 {
		t.Fatalf("changed values: %+v %v", res, err)
	}
	// A deleted object is put back.
	if err := cs.CoreV1().ConfigMaps(ns).Delete(ctx, "life-b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err = c.Apply(ctx, ApplyOptions{Release: "life", ChartDir: dir, Values: vals("two")})
	if err != nil || !res.Upgraded {
		t.Fatalf("missing object: %+v %v", res, err)
	}
	if v, ok := cmV("life-b"); !ok || v != "1" {
		t.Fatalf("life-b not put back: %q %v", v, ok)
	}
	// A template that does not render fails and leaves the objects as they were.
	writeChart(t, dir, "life", `{{ fail "broken on purpose" }}`)
	if _, err := c.Apply(ctx, ApplyOptions{Release: "life", ChartDir: dir, Values: vals("three")}); err == nil {
		t.Fatal("a broken template applied")
	}
	if v, _ := cmV("life-a"); v != "two" {
		t.Fatalf("life-a after a failed upgrade = %q", v)
	}
	// A release left pending by a crash is repaired and upgraded over.
	writeChart(t, dir, "life", `{x: "2"}`)
	acfg, err := c.configuration()
	if err != nil {
		t.Fatal(err)
	}
	last, err := lastRelease(acfg, "life")
	if err != nil {
		t.Fatal(err)
	}
	last.SetStatus(common.StatusPendingUpgrade, "interrupted")
	if err := acfg.Releases.Update(last); err != nil {
		t.Fatal(err)
	}
	res, err = c.Apply(ctx, ApplyOptions{Release: "life", ChartDir: dir, Values: vals("four")})
	if err != nil || !res.Upgraded {
		t.Fatalf("pending release: %+v %v", res, err)
	}
	if v, _ := cmV("life-a"); v != "four" {
		t.Fatalf("life-a after the repair = %q", v)
	}
	rev, status, err := c.Status(ctx, "life")
	if err != nil || status != "deployed" || rev != res.Revision {
		t.Fatalf("Status = %d %q %v", rev, status, err)
	}
	existed, err := c.Uninstall(ctx, "life")
	if err != nil || !existed {
		t.Fatalf("Uninstall = %v %v", existed, err)
	}
	if _, ok := cmV("life-a"); ok {
		t.Fatal("life-a left after uninstall")
	}
	if existed, err := c.Uninstall(ctx, "life"); err != nil || existed {
		t.Fatalf("second Uninstall = %v %v", existed, err)
	}
}

func TestModuleChartLeavesOutHooks(t *testing.T) {
	dir := t.TempDir()
	writeChart(t, dir, "lean", `{}`)
	if err := os.WriteFile(filepath.Join(dir, "enabled"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Through a symlink, as addon-operator's MODULES_DIR allows.
	link := filepath.Join(t.TempDir(), "001-lean")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	ch, err := LoadModuleChart(link, "lean")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Templates) != 1 {
		t.Fatalf("templates through the symlink: %d", len(ch.Templates))
	}
	for _, f := range append(ch.Files, ch.Templates...) {
		if f.Name == "enabled" || filepath.Dir(f.Name) == "hooks" {
			t.Fatalf("%s is in the chart", f.Name)
		}
	}
}
