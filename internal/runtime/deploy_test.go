package runtime

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/deckhand-dev/deckhand/internal/testenv"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// A version deployed into a running runtime replaces the previous one; a
// version whose hook fails is rolled back and the previous one keeps its
// objects.
func TestDeploySwapsAndRollsBack(t *testing.T) {
	e := newEnv(t)
	root := t.TempDir()
	version := func(v, data string, extra map[string]string) string {
		files := chartModule("dep-swap", 100, "  version: "+data)
		for k, val := range extra {
			files[k] = val
		}
		dir := filepath.Join(root, v)
		testenv.WriteFiles(t, dir, files)
		return filepath.Join(dir, "dep-swap")
	}
	v1 := version("v1", `"1"`, nil)
	v2 := version("v2", `"2"`, nil)
	v3 := version("v3", `"3"`, map[string]string{
		"dep-swap/hooks/fail.sh": "#!/bin/bash\nif [[ $1 == --config ]]; then echo '{\"configVersion\":\"v1\",\"beforeHelm\":1}'; exit 0; fi\necho broken >&2\nexit 1\n",
	})
	e.applyModuleConfig(t, "dep-swap", map[string]any{"enabled": true})
	rt := e.start(t, "", func(o *Options) { o.ModulesDirs = nil; o.AllowEmpty = true })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := rt.Deploy(ctx, ModuleDir{Name: "dep-swap", Dir: v1}); err != nil {
		t.Fatalf("deploy v1: %v", err)
	}
	e.waitConfigMap(t, "dep-swap", func(d map[string]string) bool { return d["version"] == "1" })
	if err := rt.Deploy(ctx, ModuleDir{Name: "dep-swap", Dir: v2}); err != nil {
		t.Fatalf("deploy v2: %v", err)
	}
	if d := e.configMapData("dep-swap"); d["version"] != "2" {
		t.Fatalf("after v2: %v", d)
	}
	err := rt.Deploy(ctx, ModuleDir{Name: "dep-swap", Dir: v3})
	var de *DeployError
	if !errors.As(err, &de) || !de.RolledBack {
		t.Fatalf("deploy v3 = %v, want a rolled back DeployError", err)
	}
	if got := rt.ModuleVersionDir("dep-swap"); got != v2 {
		t.Fatalf("running from %s, want %s", got, v2)
	}
	if d := e.configMapData("dep-swap"); d["version"] != "2" {
		t.Fatalf("after the failed v3: %v", d)
	}
	e.waitModule(t, "dep-swap", phaseIs("Ready"))
}

// A module hook's validating binding is served while the module is
// enabled: a ConfigMap the hook refuses cannot be created.
func TestModuleHookWebhook(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, mergeFiles(chartModule("guarded", 100, `  ok: "yes"`), map[string]string{
		"guarded/hooks/guard.sh": `#!/bin/bash
if [[ $1 == --config ]]; then cat <<CFG
configVersion: v1
kubernetesValidating:
- name: guard.` + e.ns + `.example.com
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps], scope: Namespaced}]
  namespace: {labelSelector: {matchLabels: {kubernetes.io/metadata.name: ` + e.ns + `}}}
  labelSelector: {matchLabels: {guarded: "yes"}}
CFG
exit 0; fi
echo '{"allowed": false, "message": "guarded by the module"}' > "$VALIDATING_RESPONSE_PATH"
`,
	}))
	addr := testenv.FreeAddr(t)
	cfgName := e.ns + "-modules"
	t.Cleanup(func() {
		_ = e.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), cfgName, metav1.DeleteOptions{})
	})
	e.applyModuleConfig(t, "guarded", map[string]any{"enabled": true})
	e.start(t, dir, func(o *Options) {
		o.Webhooks = []webhook.Options{{ListenAddress: addr, URL: "https://" + addr, ConfigurationName: cfgName}}
	})
	e.waitModule(t, "guarded", phaseIs("Ready"))
	testenv.WaitFor(t, time.Minute, "the module's webhook refusing", func() (bool, string) {
		_, err := e.kube.CoreV1().ConfigMaps(e.ns).Create(context.Background(), &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Labels: map[string]string{"guarded": "yes"}},
		}, metav1.CreateOptions{})
		return err != nil && strings.Contains(err.Error(), "guarded by the module"), fmt.Sprint(err)
	})
}
