package lint

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"github.com/deckhand-dev/deckhand/internal/module"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// TestInitLintRenderApply is the developer loop end to end: init a module,
// lint it clean, render it with a setting, and have the real kube-apiserver
// accept every rendered object.
func TestInitLintRenderApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := newModule(t, "e2e-hello")

	res, err := (&Lint{}).Run(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(notNotices(res.Problems)) != 0 {
		t.Fatalf("a freshly generated module has lint problems:\n%s", problemsText(res.Problems))
	}

	m, err := module.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "e2e-hello" || m.ValuesKey != "e2eHello" || m.Weight != module.DefaultWeight || m.Namespace() != "d8-e2e-hello" {
		t.Fatalf("loaded module = %s %s %d %s", m.Name, m.ValuesKey, m.Weight, m.Namespace())
	}
	if len(m.Hooks) != 1 || m.Hooks[0] != "hooks/banner.sh" {
		t.Fatalf("hooks = %v", m.Hooks)
	}
	// No other module enabled: the test API server has no VPA CRD.
	out, err := (&module.Render{Set: []string{"greeting=Hi from e2e", "replicas=2"}, EnabledModules: []string{}}).Run(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	manifest := out.Rendered.String()
	kinds := map[string]int{}
	reader := utilyaml.NewYAMLReader(bufioFrom(manifest))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var obj struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if obj.Kind != "" {
			kinds[obj.Kind]++
		}
	}
	if kinds["Namespace"] != 1 || kinds["ConfigMap"] != 1 || kinds["Deployment"] != 1 || kinds["PodDisruptionBudget"] != 1 || kinds["VerticalPodAutoscaler"] != 0 {
		t.Fatalf("rendered kinds = %v", kinds)
	}
	if out.Values.Module["greeting"] != "Hi from e2e" || out.Values.Module["replicas"] != float64(2) || out.Values.Module["logLevel"] != "Info" {
		t.Fatalf("module values = %v", out.Values.Module)
	}

	cp := testenv.ControlPlane(t)
	testenv.Apply(t, cp.Config, manifest)
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), "d8-e2e-hello", metav1.DeleteOptions{})
	})
	cm, err := cs.CoreV1().ConfigMaps("d8-e2e-hello").Get(ctx, "e2e-hello", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["greeting"] != "Hi from e2e" || cm.Labels["module"] != "e2e-hello" {
		t.Fatalf("ConfigMap in the API server: data %v labels %v", cm.Data, cm.Labels)
	}
	dep, err := cs.AppsV1().Deployments("d8-e2e-hello").Get(ctx, "e2e-hello", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *dep.Spec.Replicas != 2 || dep.Spec.Template.Spec.Containers[0].ReadinessProbe == nil {
		t.Fatalf("Deployment in the API server: replicas %d", *dep.Spec.Replicas)
	}
}

func problemsText(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func bufioFrom(s string) *bufio.Reader { return bufio.NewReader(bytes.NewBufferString(s)) }

func TestRenderStubsImageDigestsAndStaticValues(t *testing.T) {
	dir := newModule(t, "with-images")
	writeFile(t, dir, "images/echo-server/Dockerfile", "FROM scratch\n", 0o644)
	writeFile(t, dir, "values.yaml", "withImages:\n  greeting: from static values\n", 0o644)
	writeFile(t, dir, "templates/image.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: image
  namespace: d8-with-images
  labels: {module: with-images, heritage: deckhouse}
data:
  image: {{ printf "%s@%s" .Values.global.modulesImages.registry.base (index .Values.global.modulesImages.digests.withImages "echoServer") | quote }}
  enabled: {{ has "with-images" .Values.global.enabledModules | quote }}
  pullSecret: {{ .Values.withImages.registry.dockercfg | b64dec | quote }}
`, 0o644)
	m, err := module.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&module.Render{}).Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	s := out.Rendered.String()
	if !strings.Contains(s, `image: "registry.example.com/modules@sha256:`) || !strings.Contains(s, `enabled: "true"`) {
		t.Fatalf("image digest or enabledModules not stubbed:\n%s", s)
	}
	if !strings.Contains(s, `pullSecret: "{\"auths\":{\"registry.example.com\":{}}}"`) {
		t.Fatalf("registry not injected:\n%s", s)
	}
	if !strings.Contains(s, `greeting: "from static values"`) {
		t.Fatalf("module values.yaml section not used:\n%s", s)
	}
	// settings win over the static values.yaml section
	out, err = (&module.Render{Settings: map[string]any{"greeting": "from settings"}}).Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Rendered.String(), `greeting: "from settings"`) {
		t.Fatal("settings did not override static values")
	}
}

func TestExampleModuleLintsAndRenders(t *testing.T) {
	example := filepath.Join("..", "..", "examples", "modules", "hello-world")
	if res := lint(t, example); len(notNotices(res.Problems)) != 0 {
		t.Fatalf("examples/modules/hello-world:\n%s", problemsText(res.Problems))
	}
	m, err := module.Load(example)
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&module.Render{}).Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rendered.Install) != 5 {
		t.Fatalf("rendered %d objects, want Namespace, ConfigMap, Deployment, PodDisruptionBudget and VerticalPodAutoscaler", len(out.Rendered.Install))
	}
}
