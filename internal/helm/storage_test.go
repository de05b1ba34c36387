package helm

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/release"
	"helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func storeSecrets(t *testing.T, prefix string) (typedcorev1.SecretInterface, string) {
	t.Helper()
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, prefix)
	return kubernetes.NewForConfigOrDie(cfg).CoreV1().Secrets(ns), ns
}

func testRecord(ns, name string, version int, status common.Status, payload string) *releasev1.Release {
	now := time.Now().UTC().Truncate(time.Second)
	return &releasev1.Release{
		Name:      name,
		Namespace: ns,
		Version:   version,
		Info:      &releasev1.Info{Status: status, FirstDeployed: now, LastDeployed: now, Description: "test"},
		Chart:     &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: name, Version: "0.1.0"}},
		Config:    map[string]any{"payload": payload},
		Manifest:  "---\n# Source: " + name + "/templates/a.yaml\n",
		Labels:    map[string]string{ChecksumLabel: "abc"},
	}
}

// sameRecord fails unless two records are the same release (the stored
// part: labels are not in the record).
func sameRecord(t *testing.T, what string, got release.Releaser, want *releasev1.Release) {
	t.Helper()
	g, err := asV1Release(got)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	gj, _ := json.Marshal(g)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("%s: record differs:\n got %.300s\nwant %.300s", what, gj, wj)
	}
	if g.Labels[ChecksumLabel] != want.Labels[ChecksumLabel] {
		t.Fatalf("%s: labels %v", what, g.Labels)
	}
}

func randomText(n int) string {
	raw := make([]byte, n*3/4)
	_, _ = rand.Read(raw)
	return base64.StdEncoding.EncodeToString(raw)
}

// A record that fits in a Secret is Helm's, byte for byte: each driver
// reads what the other writes.
func TestReleaseStoreIsHelmsSecretDriver(t *testing.T) {
	secrets, ns := storeSecrets(t, "store")
	ctx := context.Background()
	ours := newReleaseStore(secrets, nil)
	helm := driver.NewSecrets(secrets)

	r1 := testRecord(ns, "small", 1, common.StatusSuperseded, "one")
	if err := ours.Create("sh.helm.release.v1.small.v1", r1); err != nil {
		t.Fatal(err)
	}
	got, err := helm.Get("sh.helm.release.v1.small.v1")
	if err != nil {
		t.Fatalf("Helm's driver reading ours: %v", err)
	}
	sameRecord(t, "Helm's Get", got, r1)

	// The same record written by Helm's driver under another key: the
	// same Secret but for the key and the time stamp.
	if err := helm.Create("sh.helm.release.v1.twin.v1", r1); err != nil {
		t.Fatal(err)
	}
	a, err := secrets.Get(ctx, "sh.helm.release.v1.small.v1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := secrets.Get(ctx, "sh.helm.release.v1.twin.v1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != b.Type || string(a.Data["release"]) != string(b.Data["release"]) || len(a.Data) != 1 || len(b.Data) != 1 {
		t.Fatalf("records differ: type %q/%q, %d/%d bytes", a.Type, b.Type, len(a.Data["release"]), len(b.Data["release"]))
	}
	delete(a.Labels, "createdAt")
	delete(b.Labels, "createdAt")
	if fmt.Sprint(a.Labels) != fmt.Sprint(b.Labels) || len(a.Annotations) != 0 {
		t.Fatalf("labels differ: %v / %v (annotations %v)", a.Labels, b.Labels, a.Annotations)
	}
	if _, err := helm.Delete("sh.helm.release.v1.twin.v1"); err != nil {
		t.Fatal(err)
	}

	// The reverse: a record Helm (or Helm 3, addon-operator) wrote.
	r2 := testRecord(ns, "small", 2, common.StatusDeployed, "two")
	if err := helm.Create("sh.helm.release.v1.small.v2", r2); err != nil {
		t.Fatal(err)
	}
	got, err = ours.Get("sh.helm.release.v1.small.v2")
	if err != nil {
		t.Fatalf("reading Helm's: %v", err)
	}
	sameRecord(t, "our Get", got, r2)
	if l := got.(*releasev1.Release).Labels; l["owner"] != "" || l["status"] != "" {
		t.Fatalf("Get keeps system labels: %v", l)
	}
	q, err := ours.Query(map[string]string{"name": "small", "owner": "helm"})
	if err != nil || len(q) != 2 {
		t.Fatalf("Query = %d records, %v", len(q), err)
	}

	// Updating Helm's record; Helm reads the update.
	r2.Info.Status = common.StatusSuperseded
	if err := ours.Update("sh.helm.release.v1.small.v2", r2); err != nil {
		t.Fatal(err)
	}
	got, err = helm.Get("sh.helm.release.v1.small.v2")
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "Helm's Get after our Update", got, r2)
	if err := ours.Create("sh.helm.release.v1.small.v2", r2); !errors.Is(err, driver.ErrReleaseExists) {
		t.Fatalf("Create over a record: %v", err)
	}
	if _, err := ours.Get("sh.helm.release.v1.small.v9"); !errors.Is(err, driver.ErrReleaseNotFound) {
		t.Fatalf("Get of none: %v", err)
	}
	if _, err := ours.Delete("sh.helm.release.v1.small.v2"); err != nil {
		t.Fatal(err)
	}
	if _, err := helm.Get("sh.helm.release.v1.small.v2"); !errors.Is(err, driver.ErrReleaseNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}

// A record larger than the limit is chunked: written, read, replaced by a
// larger and a small one, refused when a chunk is changed, deleted whole.
func TestReleaseStoreChunks(t *testing.T) {
	secrets, ns := storeSecrets(t, "chunks")
	ctx := context.Background()
	ours := newReleaseStore(secrets, nil)
	ours.limit = 16 << 10
	helm := driver.NewSecrets(secrets)
	const key = "sh.helm.release.v1.big.v1"
	chunksOf := func() []corev1.Secret {
		t.Helper()
		l, err := secrets.List(ctx, metav1.ListOptions{LabelSelector: storeLabelChunkOf + "=" + chunkOfLabel(key)})
		if err != nil {
			t.Fatal(err)
		}
		return l.Items
	}

	r := testRecord(ns, "big", 1, common.StatusDeployed, randomText(40<<10))
	if err := ours.Create(key, r); err != nil {
		t.Fatal(err)
	}
	head, err := secrets.Get(ctx, key, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if head.Type != "helm.sh/release.v1" || len(head.Data["release"]) != 0 || head.Labels["status"] != "deployed" || head.Annotations[storeAnnotationChunks] != "3" {
		t.Fatalf("head: type %q, %d bytes, labels %v, annotations %v", head.Type, len(head.Data["release"]), head.Labels, head.Annotations)
	}
	chunks := chunksOf()
	if len(chunks) != 3 {
		t.Fatalf("%d chunks", len(chunks))
	}
	for _, c := range chunks {
		if c.Type != storeChunkType || c.Labels["name"] != "big" || c.Labels["version"] != "1" || c.Labels["owner"] != "deckhand" || c.Labels[storeLabelChunkIndex] == "" {
			t.Fatalf("chunk %s: type %q labels %v", c.Name, c.Type, c.Labels)
		}
	}
	got, err := ours.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "Get", got, r)
	q, err := ours.Query(map[string]string{"name": "big", "owner": "helm"})
	if err != nil || len(q) != 1 {
		t.Fatalf("Query = %d, %v", len(q), err)
	}
	sameRecord(t, "Query", q[0], r)
	// Plain helm refuses the head; it never reads it as a record.
	if _, err := helm.Get(key); err == nil {
		t.Fatal("Helm's driver read a chunked head as a record")
	}

	// Larger: a new generation; the old one's chunks are gone.
	gen1 := head.Annotations[storeAnnotationGeneration]
	r.Config["payload"] = randomText(60 << 10)
	if err := ours.Update(key, r); err != nil {
		t.Fatal(err)
	}
	got, err = ours.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "Get after Update", got, r)
	chunks = chunksOf()
	for _, c := range chunks {
		if strings.Contains(c.Name, "."+gen1+".") {
			t.Fatalf("chunk of the old generation left: %s", c.Name)
		}
	}
	if len(chunks) != 4 {
		t.Fatalf("%d chunks after Update", len(chunks))
	}

	// A changed chunk: Get and Query fail naming release, revision and
	// chunk; List leaves the record out.
	c0 := chunks[0]
	c0.Data[storeChunkKey][5] ^= 0x01
	if _, err := secrets.Update(ctx, &c0, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = ours.Get(key)
	if err == nil || !strings.Contains(err.Error(), `release "big" revision 1`) || !strings.Contains(err.Error(), c0.Name) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("Get with a changed chunk: %v", err)
	}
	t.Logf("changed chunk: %v", err)
	if _, err := ours.Query(map[string]string{"name": "big", "owner": "helm"}); err == nil || !strings.Contains(err.Error(), c0.Name) {
		t.Fatalf("Query with a changed chunk: %v", err)
	}
	other := testRecord(ns, "other", 1, common.StatusDeployed, "x")
	if err := ours.Create("sh.helm.release.v1.other.v1", other); err != nil {
		t.Fatal(err)
	}
	all, err := ours.List(func(release.Releaser) bool { return true })
	if err != nil || len(all) != 1 {
		t.Fatalf("List = %d, %v", len(all), err)
	}
	// A missing chunk.
	c0.Data[storeChunkKey][5] ^= 0x01
	c0.ResourceVersion = ""
	if _, err := secrets.Update(ctx, &c0, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ours.Get(key); err != nil {
		t.Fatalf("chunk put back: %v", err)
	}
	if err := secrets.Delete(ctx, chunks[1].Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ours.Get(key); err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), chunks[1].Name) {
		t.Fatalf("Get with a missing chunk: %v", err)
	}

	// Small again: no chunks left, Helm reads it.
	r.Config["payload"] = "small"
	if err := ours.Update(key, r); err != nil {
		t.Fatal(err)
	}
	if n := len(chunksOf()); n != 0 {
		t.Fatalf("%d chunks left for a record that fits", n)
	}
	if got, err := helm.Get(key); err != nil {
		t.Fatal(err)
	} else {
		sameRecord(t, "Helm's Get of the small update", got, r)
	}

	// Create over an existing record leaves no chunks behind.
	big := testRecord(ns, "big", 1, common.StatusDeployed, randomText(40<<10))
	if err := ours.Create(key, big); !errors.Is(err, driver.ErrReleaseExists) {
		t.Fatalf("Create over a record: %v", err)
	}
	if n := len(chunksOf()); n != 0 {
		t.Fatalf("%d chunks left by a refused Create", n)
	}

	// Delete removes the head and the chunks, even of a damaged record.
	if err := ours.Update(key, big); err != nil {
		t.Fatal(err)
	}
	c := chunksOf()[0]
	c.Data[storeChunkKey][0] ^= 0x01
	if _, err := secrets.Update(ctx, &c, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ours.Delete(key); err == nil || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("Delete of a damaged record: %v", err)
	}
	if n := len(chunksOf()); n != 0 {
		t.Fatalf("%d chunks left by Delete", n)
	}
	if _, err := ours.Get(key); !errors.Is(err, driver.ErrReleaseNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}

// A release whose record is several times what a Secret holds installs,
// upgrades and reads back through the Client; a changed chunk stops it with
// an error naming release and chunk; uninstall leaves nothing behind.
func TestApplyReleaseLargerThanASecret(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "huge")
	secrets := kubernetes.NewForConfigOrDie(cfg).CoreV1().Secrets(ns)
	c, err := NewClient(cfg, ns)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	// 16 ConfigMaps of 200 KB of random text each: 3.2 MB of manifest that
	// gzip barely shrinks.
	testenv.WriteFiles(t, dir, map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: huge\nversion: 0.1.0\n",
		"templates/cms.yaml": `{{- range $i := until 16 }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: huge-{{ $i }}, labels: {rev: {{ $.Values.mod.rev | quote }}}}
data: {blob: {{ randAlphaNum 200000 | quote }}}
{{- end }}
`,
	})
	vals := func(rev string) map[string]any { return map[string]any{"mod": map[string]any{"rev": rev}} }
	chunks := func(version string) []corev1.Secret {
		t.Helper()
		l, err := secrets.List(ctx, metav1.ListOptions{LabelSelector: "owner=deckhand,name=huge,version=" + version})
		if err != nil {
			t.Fatal(err)
		}
		return l.Items
	}

	res, err := c.Apply(ctx, ApplyOptions{Release: "huge", ChartDir: dir, Values: vals("1")})
	if err != nil || res.Revision != 1 {
		t.Fatalf("install: %+v %v", res, err)
	}
	if n := len(chunks("1")); n < 3 {
		t.Fatalf("revision 1 in %d chunks", n)
	}
	res, err = c.Apply(ctx, ApplyOptions{Release: "huge", ChartDir: dir, Values: vals("2")})
	if err != nil || res.Revision != 2 || !res.Upgraded {
		t.Fatalf("upgrade: %+v %v", res, err)
	}
	if rev, status, err := c.Status(ctx, "huge"); err != nil || rev != 2 || status != "deployed" {
		t.Fatalf("Status = %d %q %v", rev, status, err)
	}
	// Revision 1 (superseded) is kept whole.
	store := newReleaseStore(secrets, nil)
	r1, err := store.Get("sh.helm.release.v1.huge.v1")
	if err != nil {
		t.Fatal(err)
	}
	if rel := r1.(*releasev1.Release); rel.Info.Status != common.StatusSuperseded || len(rel.Manifest) < 3_000_000 {
		t.Fatalf("revision 1: %s, %d bytes of manifest", rel.Info.Status, len(rel.Manifest))
	}
	// Nothing changed: no upgrade, the chunked record read for the checksum.
	if res, err := c.Apply(ctx, ApplyOptions{Release: "huge", ChartDir: dir, Values: vals("2")}); err != nil || res.Upgraded {
		t.Fatalf("unchanged Apply: %+v %v", res, err)
	}
	if names, err := c.Releases(ctx); err != nil || len(names) != 1 || names[0] != "huge" {
		t.Fatalf("Releases = %v %v", names, err)
	}

	// A changed chunk of revision 2.
	c2 := chunks("2")
	if len(c2) < 3 {
		t.Fatalf("revision 2 in %d chunks", len(c2))
	}
	saved := append([]byte(nil), c2[1].Data[storeChunkKey]...)
	c2[1].Data[storeChunkKey][100] ^= 0x01
	if _, err := secrets.Update(ctx, &c2[1], metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Status(ctx, "huge"); err == nil || !strings.Contains(err.Error(), `release "huge" revision 2`) || !strings.Contains(err.Error(), c2[1].Name) {
		t.Fatalf("Status with a changed chunk: %v", err)
	}
	fixed, err := secrets.Get(ctx, c2[1].Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fixed.Data[storeChunkKey] = saved
	if _, err := secrets.Update(ctx, fixed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	if existed, err := c.Uninstall(ctx, "huge"); err != nil || !existed {
		t.Fatalf("Uninstall = %v %v", existed, err)
	}
	left, err := secrets.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range left.Items {
		if strings.HasPrefix(s.Name, "sh.helm.release.v1.huge") || s.Type == storeChunkType {
			t.Errorf("left after uninstall: %s", s.Name)
		}
	}
}
