package helm

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// A release whose record is larger than a Secret holds installs, upgrades,
// reads back, refuses a tampered chunk, and is removed whole.
func TestLargeReleaseRecord(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "big")
	cs := kubernetes.NewForConfigOrDie(cfg)
	c, err := NewClient(cfg, ns)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: big\nversion: 0.1.0\n",
		"templates/cms.yaml": `{{- range $i, $blob := .Values.mod.blobs }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: big-{{ $i }}}
data: {blob: {{ $blob | quote }}}
{{- end }}
`,
	})
	blobs := func() map[string]any {
		var out []any
		for range 6 {
			raw := make([]byte, 150<<10)
			_, _ = rand.Read(raw)
			out = append(out, base64.StdEncoding.EncodeToString(raw))
		}
		return map[string]any{"mod": map[string]any{"blobs": out}}
	}
	res, err := c.Apply(ctx, ApplyOptions{Release: "big", ChartDir: dir, Values: blobs()})
	if err != nil || res.Revision != 1 {
		t.Fatalf("install: %+v %v", res, err)
	}
	chunks, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: labelChunkOf})
	if err != nil || len(chunks.Items) < 2 {
		t.Fatalf("the record was not split: %d chunks, %v", len(chunks.Items), err)
	}
	for _, ch := range chunks.Items {
		if ch.Labels[labelReleaseName] != "big" || ch.Labels[labelReleaseVersion] != "1" || ch.Labels["owner"] != "" {
			t.Fatalf("chunk %s labels: %v", ch.Name, ch.Labels)
		}
	}
	res, err = c.Apply(ctx, ApplyOptions{Release: "big", ChartDir: dir, Values: blobs()})
	if err != nil || res.Revision != 2 || !res.Upgraded {
		t.Fatalf("upgrade: %+v %v", res, err)
	}
	if rev, status, err := c.Status(ctx, "big"); err != nil || rev != 2 || status != "deployed" {
		t.Fatalf("Status = %d %q %v", rev, status, err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "big-5", metav1.GetOptions{}); err != nil {
		t.Fatalf("big-5 after the upgrade: %v", err)
	}
	// The head of revision 2 stays readable by plain Secret listing, and
	// names its chunks.
	head, err := cs.CoreV1().Secrets(ns).Get(ctx, "sh.helm.release.v1.big.v2", metav1.GetOptions{})
	if err != nil || head.Annotations[annotationChunks] == "" || len(head.Data[releaseKey]) != 0 {
		t.Fatalf("head: %v %v", head.Annotations, err)
	}

	// A changed chunk is refused, naming the record.
	chunk, err := cs.CoreV1().Secrets(ns).Get(ctx, chunkName(head.Name, head.Annotations[annotationGeneration], 0), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	saved := append([]byte(nil), chunk.Data["chunk"]...)
	chunk.Data["chunk"][10] ^= 0xff
	if _, err := cs.CoreV1().Secrets(ns).Update(ctx, chunk, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Status(ctx, "big"); err == nil || !strings.Contains(err.Error(), "sh.helm.release.v1.big.v2") || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("tampered chunk: %v", err)
	}
	// Listing every release still works: one damaged record hides no other.
	if _, err := c.Releases(ctx); err != nil {
		t.Fatalf("Releases with a damaged record: %v", err)
	}
	chunk, err = cs.CoreV1().Secrets(ns).Get(ctx, chunk.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	chunk.Data["chunk"] = saved
	if _, err := cs.CoreV1().Secrets(ns).Update(ctx, chunk, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	if existed, err := c.Uninstall(ctx, "big"); err != nil || !existed {
		t.Fatalf("Uninstall = %v %v", existed, err)
	}
	left, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range left.Items {
		if strings.HasPrefix(s.Name, "sh.helm.release.v1.big") {
			t.Errorf("left after uninstall: %s", s.Name)
		}
	}
}
