package crds_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/deckhand-dev/deckhand/api/crds"
	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/api/v1alpha2"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestCRDsDecode(t *testing.T) {
	list, err := crds.CRDs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // CRD name -> short name ("" = none, as in DKP)
		"moduleconfigs.deckhouse.io":        "mc",
		"modules.deckhouse.io":              "",
		"modulesources.deckhouse.io":        "ms",
		"modulereleases.deckhouse.io":       "mr",
		"moduleupdatepolicies.deckhouse.io": "mup",
		"modulepulloverrides.deckhouse.io":  "mpo",
	}
	if len(list) != len(want) {
		t.Fatalf("got %d CRDs, want %d", len(list), len(want))
	}
	for _, crd := range list {
		short, ok := want[crd.Name]
		if !ok {
			t.Errorf("unexpected CRD %s", crd.Name)
			continue
		}
		if crd.Spec.Group != "deckhouse.io" || crd.Spec.Scope != "Cluster" {
			t.Errorf("%s: group %q scope %q", crd.Name, crd.Spec.Group, crd.Spec.Scope)
		}
		var got []string
		if short != "" {
			got = []string{short}
		}
		if !reflect.DeepEqual(crd.Spec.Names.ShortNames, got) {
			t.Errorf("%s: short names %v, want %v", crd.Name, crd.Spec.Names.ShortNames, got)
		}
		for _, v := range crd.Spec.Versions {
			if v.Subresources == nil || v.Subresources.Status == nil {
				t.Errorf("%s %s: no status subresource", crd.Name, v.Name)
			}
		}
	}
}

// TestInstallAndRoundTrip installs the CRDs into a real API server, applies
// DKP-style manifests unchanged, reads them back through the Go types and
// writes status through the status subresource.
func TestInstallAndRoundTrip(t *testing.T) {
	cp := testenv.ControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := 0; i < 2; i++ { // the second run takes the update path
		if err := crds.Install(ctx, cp.Config); err != nil {
			t.Fatalf("Install (run %d): %v", i+1, err)
		}
	}

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{v1alpha1.AddToScheme, v1alpha2.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(cp.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	testenv.Apply(t, cp.Config, `
apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata:
  name: crds-test-hello
  annotations: {modules.deckhouse.io/allow-disabling: "true"}
spec:
  enabled: true
  version: 2
  settings:
    replicas: 2
    nested: {list: [a, b], flag: false}
  source: acme
  updatePolicy: weekday-window
  maintenance: NoResourceReconciliation
---
apiVersion: deckhouse.io/v1alpha1
kind: ModuleSource
metadata: {name: crds-test-acme}
spec:
  registry:
    repo: registry.example.io/acme/modules
    dockerCfg: eyJhdXRocyI6e319
    ca: |
      -----BEGIN CERTIFICATE-----
      MIIB
      -----END CERTIFICATE-----
  releaseChannel: Stable
---
apiVersion: deckhouse.io/v1alpha2
kind: ModuleUpdatePolicy
metadata: {name: crds-test-weekday-window}
spec:
  releaseChannel: EarlyAccess
  update:
    mode: AutoPatch
    windows:
      - {days: [Mon, Wed], from: "13:30", to: "14:00"}
---
apiVersion: deckhouse.io/v1alpha2
kind: ModulePullOverride
metadata: {name: crds-test-hello}
spec:
  imageTag: pr-42
`)

	// ModuleConfig: spec as written.
	mc := &v1alpha1.ModuleConfig{}
	if err := c.Get(ctx, client.ObjectKey{Name: "crds-test-hello"}, mc); err != nil {
		t.Fatal(err)
	}
	if en, ok := mc.Spec.IsEnabled(); !en || !ok {
		t.Errorf("enabled = %v (set %v), want true", en, ok)
	}
	if mc.Spec.Version != 2 || mc.Spec.Source != "acme" || mc.Spec.UpdatePolicy != "weekday-window" ||
		mc.Spec.Maintenance != v1alpha1.MaintenanceNoResourceReconciliation {
		t.Errorf("spec = %+v", mc.Spec)
	}
	settings, err := mc.Spec.SettingsMap()
	if err != nil {
		t.Fatal(err)
	}
	wantSettings := map[string]any{"replicas": float64(2), "nested": map[string]any{"list": []any{"a", "b"}, "flag": false}}
	if !reflect.DeepEqual(settings, wantSettings) {
		t.Errorf("settings = %#v, want %#v", settings, wantSettings)
	}

	// ModuleConfig status through the subresource; a spec change there is ignored.
	mc.Status.Version = "2"
	mc.Status.Message = "Ready"
	meta.SetStatusCondition(&mc.Status.Conditions, metav1.Condition{Type: "SettingsValid", Status: metav1.ConditionTrue, Reason: "Validated", Message: "ok"})
	mc.Spec.Source = "changed-through-status"
	if err := c.Status().Update(ctx, mc); err != nil {
		t.Fatalf("status update: %v", err)
	}
	got := &v1alpha1.ModuleConfig{}
	if err := c.Get(ctx, client.ObjectKey{Name: mc.Name}, got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Version != "2" || got.Status.Message != "Ready" || !meta.IsStatusConditionTrue(got.Status.Conditions, "SettingsValid") {
		t.Errorf("status = %+v", got.Status)
	}
	if got.Spec.Source != "acme" {
		t.Errorf("status update changed spec.source to %q", got.Spec.Source)
	}

	// ModuleSource: defaults applied, status written.
	ms := &v1alpha1.ModuleSource{}
	if err := c.Get(ctx, client.ObjectKey{Name: "crds-test-acme"}, ms); err != nil {
		t.Fatal(err)
	}
	if ms.Spec.Registry.Repo != "registry.example.io/acme/modules" || ms.Spec.Registry.Scheme != "HTTPS" ||
		ms.Spec.Registry.DockerCfg == "" || ms.Spec.Registry.CA == "" || ms.Spec.ReleaseChannel != "Stable" {
		t.Errorf("ModuleSource spec = %+v", ms.Spec)
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	ms.Status = v1alpha1.ModuleSourceStatus{
		SyncTime: &now, ModulesCount: 1, Phase: v1alpha1.ModuleSourcePhaseActive,
		Modules: []v1alpha1.AvailableModule{{Name: "hello", Version: "v1.2.3", Checksum: "abc"}},
	}
	if err := c.Status().Update(ctx, ms); err != nil {
		t.Fatalf("ModuleSource status update: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: ms.Name}, ms); err != nil {
		t.Fatal(err)
	}
	if ms.Status.ModulesCount != 1 || len(ms.Status.Modules) != 1 || ms.Status.Modules[0].Version != "v1.2.3" || !ms.Status.SyncTime.Equal(&now) {
		t.Errorf("ModuleSource status = %+v", ms.Status)
	}

	// ModulePullOverride v1alpha2: defaults from the CRD.
	mpo := &v1alpha2.ModulePullOverride{}
	if err := c.Get(ctx, client.ObjectKey{Name: "crds-test-hello"}, mpo); err != nil {
		t.Fatal(err)
	}
	if mpo.Spec.ScanInterval != "15s" || mpo.Spec.Rollback {
		t.Errorf("ModulePullOverride spec = %+v", mpo.Spec)
	}

	// ModuleUpdatePolicy is served as v1alpha1 too (conversion None).
	mup := &v1alpha1.ModuleUpdatePolicy{}
	if err := c.Get(ctx, client.ObjectKey{Name: "crds-test-weekday-window"}, mup); err != nil {
		t.Fatal(err)
	}
	if mup.Spec.ReleaseChannel != "EarlyAccess" || mup.Spec.Update.Mode != "AutoPatch" || len(mup.Spec.Update.Windows) != 1 {
		t.Errorf("ModuleUpdatePolicy as v1alpha1 = %+v", mup.Spec)
	}

	// Module: created by deckhand, status with DKP conditions and deckhand fields.
	mod := &v1alpha1.Module{
		ObjectMeta: metav1.ObjectMeta{Name: "crds-test-hello"},
		Properties: v1alpha1.ModuleProperties{Weight: 910, Source: "acme", Stage: "General Availability", Version: "v1.2.3", AvailableSources: []string{"acme"}},
	}
	if err := c.Create(ctx, mod); err != nil {
		t.Fatal(err)
	}
	mod.Status = v1alpha1.ModuleStatus{
		Phase: v1alpha1.ModulePhaseReady,
		Conditions: []v1alpha1.ModuleCondition{
			{Type: v1alpha1.ModuleConditionEnabledByModuleManager, Status: metav1.ConditionTrue, LastTransitionTime: now},
			{Type: v1alpha1.ModuleConditionIsReady, Status: metav1.ConditionTrue, LastProbeTime: &now, LastTransitionTime: now},
		},
		ValuesChecksum:  "sha256:0123",
		ReleaseRevision: 3,
		LastError:       &v1alpha1.ModuleError{Hook: "hooks/a.py", Message: "exit 1"},
	}
	if err := c.Status().Update(ctx, mod); err != nil {
		t.Fatalf("Module status update: %v", err)
	}

	// The printer columns as kubectl get shows them (server-side tables).
	assertColumns(t, cp.Config, "v1alpha1", "moduleconfigs", "crds-test-hello",
		[]string{"Name", "Enabled", "UpdatePolicy", "Source", "Version", "Age", "Message"},
		map[string]any{"Enabled": true, "Version": "2", "Message": "Ready"})
	assertColumns(t, cp.Config, "v1alpha1", "modules", "crds-test-hello",
		[]string{"Name", "Weight", "Stage", "Release channel", "Source", "Version", "Phase", "Enabled", "Disabled Message", "Ready", "Age"},
		map[string]any{"Weight": float64(910), "Source": "acme", "Phase": "Ready", "Enabled": "True", "Ready": "True"})
	assertColumns(t, cp.Config, "v1alpha1", "modulesources", "crds-test-acme",
		[]string{"Name", "count", "status", "sync", "msg"}, map[string]any{"count": float64(1), "status": "Active"})
	assertColumns(t, cp.Config, "v1alpha2", "moduleupdatepolicies", "crds-test-weekday-window",
		[]string{"Name", "release channel", "update mode", "update windows"}, map[string]any{"update mode": "AutoPatch"})
	assertColumns(t, cp.Config, "v1alpha2", "modulepulloverrides", "crds-test-hello",
		[]string{"Name", "Updated", "Message", "Rollback"}, nil)

	// Default (priority 0) columns of `kubectl get modules`.
	ext := apiextensionsclient.NewForConfigOrDie(cp.Config)
	crd, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, "modules.deckhouse.io", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, col := range crd.Spec.Versions[0].AdditionalPrinterColumns {
		if col.Priority == 0 {
			shown = append(shown, col.Name)
		}
	}
	if want := []string{"Weight", "Stage", "Source", "Phase", "Enabled", "Ready", "Age"}; !reflect.DeepEqual(shown, want) {
		t.Errorf("kubectl get modules shows %v, want %v", shown, want)
	}
}

// TestModuleUpdatePolicyV1alpha1 checks what the None conversion does with a
// v1alpha1 policy (documented in api/v1alpha2).
func TestModuleUpdatePolicyV1alpha1(t *testing.T) {
	cp := testenv.ControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := crds.Install(ctx, cp.Config); err != nil {
		t.Fatal(err)
	}
	objs := testenv.Apply(t, cp.Config, `
apiVersion: deckhouse.io/v1alpha1
kind: ModuleUpdatePolicy
metadata: {name: crds-test-v1alpha1}
spec:
  moduleReleaseSelector:
    labelSelector:
      matchLabels: {source: acme, module: hello}
  releaseChannel: Alpha
  update:
    windows:
      - {days: [Mon], from: "1:00", to: "2:00"}
`)
	if mode, _, _ := unstructured.NestedString(objs[0].Object, "spec", "update", "mode"); mode != "AutoPatch" {
		t.Errorf("v1alpha1 default mode = %q, want AutoPatch", mode)
	}
	var mup v1alpha2.ModuleUpdatePolicy
	scheme := runtime.NewScheme()
	_ = v1alpha2.AddToScheme(scheme)
	c, err := client.New(cp.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: "crds-test-v1alpha1"}, &mup); err != nil {
		t.Fatalf("read as v1alpha2: %v", err)
	}
	if mup.Spec.ReleaseChannel != "Alpha" || mup.Spec.Update.Mode != "AutoPatch" || len(mup.Spec.Update.Windows) != 1 {
		t.Errorf("as v1alpha2 = %+v", mup.Spec)
	}
	// The selector has no v1alpha2 field: it is pruned on the way to storage.
	if _, has, _ := unstructured.NestedMap(objs[0].Object, "spec", "moduleReleaseSelector"); has {
		t.Errorf("moduleReleaseSelector survived storage as v1alpha2; update the note in api/v1alpha2/doc.go")
	}
}

// assertColumns asks the API server for the table kubectl get prints and
// checks the column names and some cells of row name.
func assertColumns(t *testing.T, cfg *rest.Config, version, resource, name string, wantCols []string, wantCells map[string]any) {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/apis/deckhouse.io/%s/%s/%s", strings.TrimSuffix(cfg.Host, "/"), version, resource, name)
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	var table metav1.Table
	if err := json.Unmarshal(body, &table); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range table.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if !reflect.DeepEqual(cols, wantCols) {
		t.Errorf("%s columns = %q, want %q", resource, cols, wantCols)
		return
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%s: %d rows", resource, len(table.Rows))
	}
	for col, want := range wantCells {
		for i, c := range cols {
			if c == col && !reflect.DeepEqual(table.Rows[0].Cells[i], want) {
				t.Errorf("%s %s column %q = %#v, want %#v", resource, name, col, table.Rows[0].Cells[i], want)
			}
		}
	}
}
