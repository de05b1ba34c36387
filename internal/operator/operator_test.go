package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/deckhand-dev/deckhand/api/crds"
	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/release"
	"github.com/deckhand-dev/deckhand/internal/testenv"
	"github.com/deckhand-dev/deckhand/internal/values"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	releaseGVR  = schema.GroupVersionResource{Group: "deckhouse.io", Version: "v1alpha1", Resource: "modulereleases"}
	overrideGVR = schema.GroupVersionResource{Group: "deckhouse.io", Version: "v1alpha2", Resource: "modulepulloverrides"}
)

// world is one test's cluster, registry and operator.
type world struct {
	cfg     *rest.Config
	ns      string
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	source  string // registry repository of the module source
	webhook *webhook.Options
	regData string // the registry's storage directory
	work    string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cp := testenv.ControlPlane(t)
	reg := testenv.DockerRegistry(t)
	w := &world{cfg: cp.Config, work: t.TempDir(), regData: reg.DataDir}
	w.ns = testenv.Namespace(t, w.cfg, "op")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := crds.Install(ctx, w.cfg); err != nil {
		t.Fatal(err)
	}
	w.source = reg.Addr + "/" + w.ns + "/modules"
	var err error
	if w.kube, err = kubernetes.NewForConfig(w.cfg); err != nil {
		t.Fatal(err)
	}
	if w.dyn, err = dynamic.NewForConfig(w.cfg); err != nil {
		t.Fatal(err)
	}
	return w
}

// startOperator runs an operator until the test ends; it returns a stop
// function that cancels it and waits.
func (w *world) startOperator(t *testing.T, downloaded string, leaderElect bool) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		err := Run(ctx, Options{
			RestConfig:    w.cfg,
			DownloadedDir: downloaded,
			Namespace:     w.ns,
			ConfigMap:     "-",
			LeaderElect:   leaderElect,
			MetricsAddr:   "0",
			ProbeAddr:     "0",
			ScanInterval:  time.Second,
			HookTimeout:   time.Minute,
			InstallCRDs:   true,
			Metrics:       prometheus.NewRegistry(),
			Webhook:       w.webhook,
			Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		})
		if err != nil && ctx.Err() == nil {
			t.Errorf("operator: %v", err)
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// publish pushes module name at version with a chart whose ConfigMap says
// which version runs, and points stable at it.
func (w *world) publish(t *testing.T, name, version string, extra map[string]string) {
	t.Helper()
	dir := filepath.Join(w.work, "src-"+version)
	files := map[string]string{
		name + "/module.yaml": "name: " + name + "\nweight: 100\nnamespace: " + w.ns + "\n",
		name + "/Chart.yaml":  "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n",
		name + "/templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: ` + name + `
  namespace: ` + w.ns + `
data:
  version: "` + version + `"
  replicas: {{ .Values.` + valuesKey(t, name) + `.replicas | quote }}
`,
		name + "/openapi/config-values.yaml": "type: object\nproperties:\n  replicas: {type: integer, default: 1}\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	testenv.WriteFiles(t, dir, files)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := registry.PublishDir(ctx, dir, w.source, version, "stable"); err != nil {
		t.Fatalf("publishing %s %s: %v", name, version, err)
	}
}

func valuesKey(t *testing.T, name string) string {
	k, err := values.ModuleKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (w *world) apply(t *testing.T, manifest string) {
	t.Helper()
	testenv.Apply(t, w.cfg, manifest)
}

func (w *world) configMapVersion(name string) string {
	cm, err := w.kube.CoreV1().ConfigMaps(w.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return cm.Data["version"]
}

func (w *world) waitVersion(t *testing.T, name, version string) {
	t.Helper()
	testenv.WaitFor(t, 2*time.Minute, name+" serving "+version, func() (bool, string) {
		got := w.configMapVersion(name)
		return got == version, got
	})
}

func (w *world) release(name string) (phase, msg string) {
	u, err := w.dyn.Resource(releaseGVR).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return "", err.Error()
	}
	phase, _, _ = unstructured.NestedString(u.Object, "status", "phase")
	msg, _, _ = unstructured.NestedString(u.Object, "status", "message")
	return phase, msg
}

func (w *world) waitRelease(t *testing.T, name, phase, msgPart string) string {
	t.Helper()
	var msg string
	testenv.WaitFor(t, 2*time.Minute, "ModuleRelease "+name+" "+phase, func() (bool, string) {
		var p string
		p, msg = w.release(name)
		return p == phase && strings.Contains(msg, msgPart), p + ": " + msg
	})
	return msg
}

func (w *world) annotate(t *testing.T, gvr schema.GroupVersionResource, name, key, value string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
	if _, err := w.dyn.Resource(gvr).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// corruptLayer flips bytes of the first layer of ref in the registry's
// storage, as a tampered blob would be.
func (w *world) corruptLayer(t *testing.T, ref string) {
	t.Helper()
	data, err := crane.Manifest(ref, crane.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal(data, &m); err != nil || len(m.Layers) == 0 {
		t.Fatalf("manifest of %s: %v %s", ref, err, data)
	}
	hex := strings.TrimPrefix(m.Layers[0].Digest, "sha256:")
	p := filepath.Join(w.regData, "docker", "registry", "v2", "blobs", "sha256", hex[:2], hex, "data")
	blob, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the registry's blob file: %v", err)
	}
	for i := len(blob) / 2; i < len(blob)/2+8 && i < len(blob); i++ {
		blob[i] ^= 0xff
	}
	if err := os.WriteFile(p, blob, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (w *world) sourceManifest(name string) string {
	return `apiVersion: deckhouse.io/v1alpha1
kind: ModuleSource
metadata: {name: ` + name + `}
spec:
  registry: {repo: ` + w.source + `, scheme: HTTP}
`
}

// The end-to-end story on the real API server and Docker Registry
// v2: a release deploys from a source, updates follow the policy (Auto,
// Manual with approval), a broken version is suspended while the previous
// one keeps serving, and a pull override runs a re-pushed dev tag and
// rolls back when removed.
func TestReleasesEndToEnd(t *testing.T) {
	w := newWorld(t)
	mod := testenv.ModuleName("hello", w.ns)
	w.publish(t, mod, "v1.0.0", nil)
	w.startOperator(t, filepath.Join(w.work, "downloaded"), false)
	w.apply(t, w.sourceManifest(w.ns))
	w.apply(t, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: `+mod+`}
spec: {enabled: true, version: 1, settings: {replicas: 2}}
`)
	w.waitRelease(t, mod+"-v1.0.0", "Deployed", "")
	w.waitVersion(t, mod, "v1.0.0")

	// Auto: a new version on the channel rolls out.
	w.publish(t, mod, "v1.1.0", nil)
	w.waitRelease(t, mod+"-v1.1.0", "Deployed", "")
	w.waitVersion(t, mod, "v1.1.0")
	w.waitRelease(t, mod+"-v1.0.0", "Superseded", "")

	// Manual: it waits for the approval annotation.
	w.apply(t, `apiVersion: deckhouse.io/v1alpha2
kind: ModuleUpdatePolicy
metadata: {name: `+w.ns+`-manual}
spec: {releaseChannel: Stable, update: {mode: Manual}}
`)
	w.apply(t, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: `+mod+`}
spec: {enabled: true, version: 1, settings: {replicas: 2}, updatePolicy: `+w.ns+`-manual}
`)
	w.publish(t, mod, "v1.2.0", nil)
	w.waitRelease(t, mod+"-v1.2.0", "Pending", "modules.deckhouse.io/approved")
	if got := w.configMapVersion(mod); got != "v1.1.0" {
		t.Fatalf("a Manual release ran before approval: %s", got)
	}
	w.annotate(t, releaseGVR, mod+"-v1.2.0", "modules.deckhouse.io/approved", "true")
	w.waitRelease(t, mod+"-v1.2.0", "Deployed", "")
	w.waitVersion(t, mod, "v1.2.0")

	// An update window that is not now defers a release; apply-now lets it go.
	later := time.Now().UTC().Add(3 * time.Hour)
	w.apply(t, `apiVersion: deckhouse.io/v1alpha2
kind: ModuleUpdatePolicy
metadata: {name: `+w.ns+`-manual}
spec: {releaseChannel: Stable, update: {mode: Auto, windows: [{from: "`+later.Format("15:04")+`", to: "`+later.Add(time.Minute).Format("15:04")+`"}]}}
`)
	w.publish(t, mod, "v1.2.1", nil)
	w.waitRelease(t, mod+"-v1.2.1", "Pending", "release is waiting for the update window")
	if got := w.configMapVersion(mod); got != "v1.2.0" {
		t.Fatalf("a release outside its window ran: %s", got)
	}
	w.annotate(t, releaseGVR, mod+"-v1.2.1", "modules.deckhouse.io/apply-now", "true")
	w.waitRelease(t, mod+"-v1.2.1", "Deployed", "")
	w.waitVersion(t, mod, "v1.2.1")

	// A broken version (its hook fails) is suspended; v1.2.1 keeps serving.
	w.publish(t, mod, "v1.2.2", map[string]string{
		mod + "/hooks/fail.sh": "#!/bin/bash\nif [[ $1 == --config ]]; then echo '{\"configVersion\":\"v1\",\"beforeHelm\":1}'; exit 0; fi\necho 'broken on purpose' >&2\nexit 1\n",
	})
	w.waitRelease(t, mod+"-v1.2.2", "Pending", "")
	w.annotate(t, releaseGVR, mod+"-v1.2.2", "modules.deckhouse.io/apply-now", "true")
	msg := w.waitRelease(t, mod+"-v1.2.2", "Suspended", "converge failed")
	if !strings.Contains(msg, "v1.2.1 keeps running") {
		t.Errorf("suspended message %q does not say what runs", msg)
	}
	if got := w.configMapVersion(mod); got != "v1.2.1" {
		t.Fatalf("after the broken release the module serves %q", got)
	}
	// `deckhand status` explains it from the objects.
	c, err := NewClient(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := release.Explain(context.Background(), c, mod)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Version != "v1.2.1" || rep.Source != w.ns || rep.Policy == nil || rep.Policy.Mode != "Auto" || rep.Policy.Windows == "" || len(rep.Releases) != 5 || rep.Releases[0].Phase != "Suspended" {
		t.Errorf("report: %+v (policy %+v)", rep, rep.Policy)
	}

	// A chart that does not render is refused before anything runs.
	w.publish(t, mod, "v1.2.3", map[string]string{mod + "/templates/broken.yaml": "{{ required \"broken.value is required\" .Values.broken }}\n"})
	w.waitRelease(t, mod+"-v1.2.3", "Pending", "")
	w.annotate(t, releaseGVR, mod+"-v1.2.3", "modules.deckhouse.io/apply-now", "true")
	w.waitRelease(t, mod+"-v1.2.3", "Suspended", "validation failed")
	if got := w.configMapVersion(mod); got != "v1.2.1" {
		t.Fatalf("after the bad chart the module serves %q", got)
	}
	// A layer whose bytes do not match its digest is refused at download.
	w.publish(t, mod, "v1.2.4", nil)
	w.corruptLayer(t, w.source+"/"+mod+":v1.2.4")
	w.waitRelease(t, mod+"-v1.2.4", "Pending", "")
	w.annotate(t, releaseGVR, mod+"-v1.2.4", "modules.deckhouse.io/apply-now", "true")
	w.waitRelease(t, mod+"-v1.2.4", "Suspended", "download failed")
	if got := w.configMapVersion(mod); got != "v1.2.1" {
		t.Fatalf("after the tampered image the module serves %q", got)
	}

	// A pull override runs a dev tag, follows a re-push, and rolls back when removed.
	ctx := context.Background()
	w.publish(t, mod, "v9.0.0", nil)
	if err := crane.Copy(w.source+"/"+mod+":v9.0.0", w.source+"/"+mod+":dev", crane.Insecure, crane.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	w.apply(t, `apiVersion: deckhouse.io/v1alpha2
kind: ModulePullOverride
metadata: {name: `+mod+`}
spec: {imageTag: dev, scanInterval: 1s}
`)
	w.waitVersion(t, mod, "v9.0.0")
	w.publish(t, mod, "v9.1.0", nil)
	if err := crane.Copy(w.source+"/"+mod+":v9.1.0", w.source+"/"+mod+":dev", crane.Insecure, crane.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	w.waitVersion(t, mod, "v9.1.0")
	if err := w.dyn.Resource(overrideGVR).Delete(ctx, mod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	w.waitVersion(t, mod, "v1.2.1")
	testenv.WaitFor(t, time.Minute, "override gone", func() (bool, string) {
		_, err := w.dyn.Resource(overrideGVR).Get(ctx, mod, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// Bad input gives a clear status on the object and runs nothing: an
// unreachable registry, two sources offering one module without a choice,
// a ModuleConfig naming a missing policy or a source that does not offer
// the module.
func TestBadSourcesAndConfigs(t *testing.T) {
	w := newWorld(t)
	mod := testenv.ModuleName("bad", w.ns)
	w.publish(t, mod, "v1.0.0", nil)
	w.startOperator(t, filepath.Join(w.work, "downloaded"), false)
	ctx := context.Background()
	c, err := NewClient(w.cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Unreachable: a closed port.
	w.apply(t, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleSource
metadata: {name: `+w.ns+`-gone}
spec: {registry: {repo: 127.0.0.1:1/nothing, scheme: HTTP}}
`)
	var ms v1alpha1.ModuleSource
	testenv.WaitFor(t, time.Minute, "the unreachable source's condition", func() (bool, string) {
		if err := c.Get(ctx, client.ObjectKey{Name: w.ns + "-gone"}, &ms); err != nil {
			return false, err.Error()
		}
		cond := meta.FindStatusCondition(ms.Status.Conditions, release.ConditionScanned)
		return cond != nil && cond.Status == metav1.ConditionFalse && strings.Contains(ms.Status.Message, "127.0.0.1:1"), ms.Status.Message
	})

	// Two sources offer the module and the ModuleConfig picks none. (The
	// ModuleConfig comes once both scans registered the module: enabled
	// while only one had, the module would rightly run from that one.)
	w.apply(t, w.sourceManifest(w.ns+"-a"))
	w.apply(t, w.sourceManifest(w.ns+"-b"))
	testenv.WaitFor(t, time.Minute, "both sources offering the module", func() (bool, string) {
		var m v1alpha1.Module
		if err := c.Get(ctx, client.ObjectKey{Name: mod}, &m); err != nil {
			return false, err.Error()
		}
		return len(m.Properties.AvailableSources) == 2, fmt.Sprint(m.Properties.AvailableSources)
	})
	w.apply(t, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: `+mod+`}
spec: {enabled: true}
`)
	var m v1alpha1.Module
	testenv.WaitFor(t, time.Minute, "phase Conflict", func() (bool, string) {
		if err := c.Get(ctx, client.ObjectKey{Name: mod}, &m); err != nil {
			return false, err.Error()
		}
		return m.Status.Phase == v1alpha1.ModulePhaseConflict, fmt.Sprintf("%s %v", m.Status.Phase, m.Properties.AvailableSources)
	})
	if w.configMapVersion(mod) != "" {
		t.Fatal("a conflicting module runs")
	}

	// A source that does not offer it.
	w.apply(t, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: `+mod+`}
spec: {enabled: true, source: nowhere}
`)
	testenv.WaitFor(t, time.Minute, "the missing source named", func() (bool, string) {
		if err := c.Get(ctx, client.ObjectKey{Name: mod}, &m); err != nil {
			return false, err.Error()
		}
		for _, cond := range m.Status.Conditions {
			if cond.Type == v1alpha1.ModuleConditionIsReady && strings.Contains(cond.Message, `"nowhere"`) {
				return true, cond.Message
			}
		}
		return false, fmt.Sprint(m.Status.Conditions)
	})

	// A missing policy: the release waits and says so; choosing one that exists deploys.
	w.apply(t, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: `+mod+`}
spec: {enabled: true, source: `+w.ns+`-a, updatePolicy: nope}
`)
	testenv.WaitFor(t, time.Minute, "the source's entry names the missing policy", func() (bool, string) {
		if err := c.Get(ctx, client.ObjectKey{Name: w.ns + "-a"}, &ms); err != nil {
			return false, err.Error()
		}
		for _, e := range ms.Status.Modules {
			if e.Name == mod {
				return strings.Contains(e.PullError, "Update policy nope not found"), e.PullError
			}
		}
		return false, fmt.Sprint(ms.Status.Modules)
	})
	if w.configMapVersion(mod) != "" {
		t.Fatal("a module with a missing policy runs")
	}
	w.apply(t, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: `+mod+`}
spec: {enabled: true, source: `+w.ns+`-a}
`)
	w.waitRelease(t, mod+"-v1.0.0", "Deployed", "")
	w.waitVersion(t, mod, "v1.0.0")

	// A source with a deployed release is not deleted until forced; one
	// without goes at once.
	for _, name := range []string{w.ns + "-a", w.ns + "-b"} {
		if err := c.Delete(ctx, &v1alpha1.ModuleSource{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, time.Minute, "the unused source gone, the used one held", func() (bool, string) {
		errB := c.Get(ctx, client.ObjectKey{Name: w.ns + "-b"}, &ms)
		if err := c.Get(ctx, client.ObjectKey{Name: w.ns + "-a"}, &ms); err != nil {
			return false, err.Error()
		}
		return apierrors.IsNotFound(errB) && strings.Contains(ms.Status.Message, "deployed release"), ms.Status.Message
	})
	w.annotate(t, schema.GroupVersionResource{Group: "deckhouse.io", Version: "v1alpha1", Resource: "modulesources"}, w.ns+"-a", "modules.deckhouse.io/force-delete", "true")
	testenv.WaitFor(t, time.Minute, "the forced source gone", func() (bool, string) {
		err := c.Get(ctx, client.ObjectKey{Name: w.ns + "-a"}, &ms)
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// The ModuleConfig webhook: a bad `kubectl apply` fails at once with the
// reason (unknown module, missing policy, settings the module's schema
// refuses) and a good one goes through.
func TestModuleConfigWebhook(t *testing.T) {
	w := newWorld(t)
	mod := testenv.ModuleName("mcw", w.ns)
	w.publish(t, mod, "v1.0.0", map[string]string{mod + "/openapi/config-values.yaml": "type: object\nproperties:\n  replicas: {type: integer, default: 1, maximum: 3}\n"})
	addr := testenv.FreeAddr(t)
	cfgName := w.ns + "-operator"
	kube := w.kube
	t.Cleanup(func() {
		// The configuration is cluster-wide and Fail: do not leave it behind.
		_ = kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), cfgName, metav1.DeleteOptions{})
	})
	w.webhook = &webhook.Options{ListenAddress: addr, URL: "https://" + addr, ConfigurationName: cfgName}
	w.startOperator(t, filepath.Join(w.work, "downloaded"), false)
	w.apply(t, w.sourceManifest(w.ns))
	testenv.WaitFor(t, time.Minute, "the webhook registered", func() (bool, string) {
		_, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(context.Background(), cfgName, metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	applyErr := func(manifest string) error {
		_, err := testenv.ApplyYAML(context.Background(), w.cfg, manifest)
		return err
	}
	if err := applyErr(`apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: nosuchmodule` + w.ns[len(w.ns)-5:] + `}
spec: {enabled: true}
`); err == nil || !strings.Contains(err.Error(), "is unknown") {
		t.Fatalf("an unknown module: %v", err)
	}
	testenv.WaitFor(t, time.Minute, "the module offered", func() (bool, string) {
		var m v1alpha1.Module
		c, _ := NewClient(w.cfg)
		err := c.Get(context.Background(), client.ObjectKey{Name: mod}, &m)
		return err == nil, fmt.Sprint(err)
	})
	if err := applyErr(`apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: ` + mod + `}
spec: {enabled: true, updatePolicy: nope}
`); err == nil || !strings.Contains(err.Error(), `ModuleUpdatePolicy "nope" not found`) {
		t.Fatalf("a missing policy: %v", err)
	}
	w.apply(t, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: `+mod+`}
spec: {enabled: true, version: 1, settings: {replicas: 2}}
`)
	w.waitVersion(t, mod, "v1.0.0")
	if err := applyErr(`apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: ` + mod + `}
spec: {enabled: true, version: 1, settings: {replicas: 7}}
`); err == nil || !strings.Contains(err.Error(), "replicas") {
		t.Fatalf("settings over the maximum: %v", err)
	}
}

// Signed modules: with Enforce, an unsigned release, one signed by an
// unknown key and one re-pushed after signing are Suspended while the
// previous version keeps serving; a second key is accepted after rotation
// without downtime; Warn deploys an unsigned release with a warning.
func TestSignedReleases(t *testing.T) {
	w := newWorld(t)
	mod := testenv.ModuleName("signed", w.ns)
	keyA, pubA := genKey(t)
	keyB, pubB := genKey(t)
	ctx := context.Background()
	rc, err := registry.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	sign := func(version string, key *registry.SigningKey) {
		t.Helper()
		if _, err := rc.Sign(ctx, w.source, mod, version, key); err != nil {
			t.Fatal(err)
		}
	}
	source := func(mode string, keys ...[]byte) string {
		var b strings.Builder
		for _, k := range keys {
			b.WriteString("    - |\n")
			for _, line := range strings.Split(strings.TrimSpace(string(k)), "\n") {
				b.WriteString("      " + line + "\n")
			}
		}
		return w.sourceManifest(w.ns) + "  verification:\n    mode: " + mode + "\n    publicKeys:\n" + b.String()
	}
	w.publish(t, mod, "v1.0.0", nil)
	sign("v1.0.0", keyA)
	w.startOperator(t, filepath.Join(w.work, "downloaded"), false)
	w.apply(t, source("Enforce", pubA))
	w.apply(t, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: `+mod+`}
spec: {enabled: true}
`)
	w.waitRelease(t, mod+"-v1.0.0", "Deployed", "")
	w.waitVersion(t, mod, "v1.0.0")

	w.publish(t, mod, "v1.1.0", nil) // unsigned
	w.waitRelease(t, mod+"-v1.1.0", "Suspended", "verification failed")
	w.publish(t, mod, "v1.1.1", nil)
	sign("v1.1.1", keyB) // a key the source does not trust
	w.waitRelease(t, mod+"-v1.1.1", "Suspended", "none by the trusted keys")
	w.publish(t, mod, "v1.1.2", nil)
	sign("v1.1.2", keyA)
	w.publish(t, mod, "v1.1.2", map[string]string{mod + "/templates/extra.yaml": "# re-pushed after signing\n"})
	w.waitRelease(t, mod+"-v1.1.2", "Suspended", "verification failed")
	if got := w.configMapVersion(mod); got != "v1.0.0" {
		t.Fatalf("after three refused releases the module serves %q", got)
	}

	// Rotation: both keys trusted, a release signed by the new one deploys.
	w.apply(t, source("Enforce", pubA, pubB))
	w.publish(t, mod, "v1.1.3", nil)
	sign("v1.1.3", keyB)
	w.waitRelease(t, mod+"-v1.1.3", "Deployed", "")
	w.waitVersion(t, mod, "v1.1.3")

	// Warn: an unsigned release deploys, and says so.
	w.apply(t, source("Warn", pubA, pubB))
	w.publish(t, mod, "v1.1.4", nil)
	w.waitRelease(t, mod+"-v1.1.4", "Deployed", "")
	w.waitVersion(t, mod, "v1.1.4")
	var mr v1alpha1.ModuleRelease
	c, err := NewClient(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: mod + "-v1.1.4"}, &mr); err != nil {
		t.Fatal(err)
	}
	cond := meta.FindStatusCondition(mr.Status.Conditions, release.ConditionSignatureVerified)
	if cond == nil || cond.Status != metav1.ConditionFalse {
		t.Fatalf("Warn mode condition: %+v", mr.Status.Conditions)
	}

	// Enforce again: a pull override of an unsigned tag is refused.
	w.apply(t, source("Enforce", pubA, pubB))
	if err := crane.Copy(w.source+"/"+mod+":v1.1.0", w.source+"/"+mod+":dev", crane.Insecure); err != nil {
		t.Fatal(err)
	}
	w.apply(t, `apiVersion: deckhouse.io/v1alpha2
kind: ModulePullOverride
metadata: {name: `+mod+`}
spec: {imageTag: dev, scanInterval: 1s}
`)
	testenv.WaitFor(t, time.Minute, "the unsigned override refused", func() (bool, string) {
		u, err := w.dyn.Resource(overrideGVR).Get(ctx, mod, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		msg, _, _ := unstructured.NestedString(u.Object, "status", "message")
		return strings.Contains(msg, "verification failed"), msg
	})
	if got := w.configMapVersion(mod); got != "v1.1.4" {
		t.Fatalf("an unsigned override ran: %s", got)
	}
	if err := w.dyn.Resource(overrideGVR).Delete(ctx, mod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func genKey(t *testing.T) (*registry.SigningKey, []byte) {
	t.Helper()
	priv, pub, err := registry.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := registry.LoadSigningKey(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k, pub
}
