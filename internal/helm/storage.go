package helm

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/release"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kblabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
)

// releaseStore is the Helm storage driver deckhand keeps release history
// with: Helm's Secret driver, record for record, plus chunking.
//
// A record whose encoded form (JSON, gzip, base64: Helm's) fits in
// storeChunkLimit is one Secret sh.helm.release.v1.<name>.v<N> of type
// helm.sh/release.v1 with Helm's labels, byte for byte what Helm writes, so
// plain helm, Helm 3 and addon-operator read what deckhand writes and the
// other way round.
//
// A larger record (a Secret holds at most 1 MiB; modules with many CRDs or
// big ConfigMaps pass it, where Helm, Flux and DKP fail) is cut into chunk
// Secrets <head>.<generation>.c<k> of type deckhand.io/release-chunk,
// written before the head. The head keeps Helm's name, type and labels, an
// empty record, and annotations with the chunk count, the generation and
// the SHA-256 of the whole record and of each chunk. A reader joins the
// chunks and checks them, so a partial or changed record is an error naming
// the release and the chunk, never a record read as whole. An update
// writes a new generation of chunks, then the head, then deletes the old
// generation; a delete removes the head, then all its chunks.
//
// The format is the one chunkedSecrets (chunked.go) writes; the per-chunk
// checksums are optional on read.
type releaseStore struct {
	secrets typedcorev1.SecretInterface
	log     *slog.Logger
	limit   int // storeChunkLimit; smaller in tests
}

var _ driver.Driver = (*releaseStore)(nil)

const (
	// storeChunkLimit is the largest encoded record kept in one Secret,
	// and the size of a chunk: well under a Secret's 1 MiB.
	storeChunkLimit = 900 << 10

	storeReleaseType = "helm.sh/release.v1"
	storeReleaseKey  = "release"
	storeChunkType   = "deckhand.io/release-chunk"
	storeChunkKey    = "chunk"

	// On the head of a chunked record.
	storeAnnotationChunks     = "deckhand.io/release-chunks"
	storeAnnotationGeneration = "deckhand.io/release-generation"
	storeAnnotationSHA256     = "deckhand.io/release-sha256"
	storeAnnotationChunkSums  = "deckhand.io/release-chunk-sha256s"

	// On a chunk, besides name and version (the release's) and owner.
	storeLabelChunkOf    = "deckhand.io/release-chunk-of"
	storeLabelChunkIndex = "deckhand.io/release-chunk-index"
	storeLabelGeneration = "deckhand.io/release-generation"
	storeChunkOwner      = "deckhand"
)

// storeSystemLabels are the labels Helm's Secret driver sets itself and
// strips from a record read with Get.
var storeSystemLabels = driver.GetSystemLabels()

func newReleaseStore(secrets typedcorev1.SecretInterface, log *slog.Logger) *releaseStore {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &releaseStore{secrets: secrets, log: log, limit: storeChunkLimit}
}

// Name is Helm's Secret driver's: records are Helm's Secrets.
func (s *releaseStore) Name() string { return driver.SecretsDriverName }

// Get returns the record named key, joined and checked when chunked.
func (s *releaseStore) Get(key string) (release.Releaser, error) {
	ctx := context.Background()
	obj, err := s.secrets.Get(ctx, key, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, driver.ErrReleaseNotFound
		}
		return nil, fmt.Errorf("get: failed to get %q: %w", key, err)
	}
	rls, err := s.read(ctx, obj)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	rls.Labels = withoutSystemLabels(obj.Labels)
	return rls, nil
}

// List returns the records for which filter is true. As Helm's driver, it
// leaves out (and logs) a record it cannot read, so one damaged release
// does not hide the others.
func (s *releaseStore) List(filter func(release.Releaser) bool) ([]release.Releaser, error) {
	ctx := context.Background()
	sel := kblabels.Set{"owner": "helm"}.AsSelector().String()
	list, err := s.secrets.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list: failed to list: %w", err)
	}
	var out []release.Releaser
	for i := range list.Items {
		item := &list.Items[i]
		if item.Type == storeChunkType {
			continue
		}
		rls, err := s.read(ctx, item)
		if err != nil {
			s.log.Warn("helm: skipping a release record that cannot be read", "secret", item.Name, "error", err)
			continue
		}
		rls.Labels = item.Labels
		if filter(rls) {
			out = append(out, rls)
		}
	}
	return out, nil
}

// Query returns the records with the given labels. A chunked record that
// fails its check is an error (Helm takes history from Query: a revision
// left out would be overwritten); one Helm itself could not decode is left
// out, as Helm does.
func (s *releaseStore) Query(labels map[string]string) ([]release.Releaser, error) {
	ctx := context.Background()
	ls := kblabels.Set{}
	for k, v := range labels {
		if errs := validation.IsValidLabelValue(v); len(errs) != 0 {
			return nil, fmt.Errorf("invalid label value: %q: %s", v, strings.Join(errs, "; "))
		}
		ls[k] = v
	}
	list, err := s.secrets.List(ctx, metav1.ListOptions{LabelSelector: ls.AsSelector().String()})
	if err != nil {
		return nil, fmt.Errorf("query: failed to query with labels: %w", err)
	}
	if len(list.Items) == 0 {
		return nil, driver.ErrReleaseNotFound
	}
	var out []release.Releaser
	for i := range list.Items {
		item := &list.Items[i]
		if item.Type == storeChunkType {
			continue
		}
		rls, err := s.read(ctx, item)
		if errors.Is(err, errChunked) {
			return nil, fmt.Errorf("query: %w", err)
		}
		if err != nil {
			s.log.Debug("helm: skipping a release record that cannot be decoded", "secret", item.Name, "error", err)
			continue
		}
		rls.Labels = item.Labels
		out = append(out, rls)
	}
	return out, nil
}

// Create stores a new record; driver.ErrReleaseExists if there is one.
func (s *releaseStore) Create(key string, rel release.Releaser) error {
	ctx := context.Background()
	rls, err := asV1Release(rel)
	if err != nil {
		return err
	}
	head, err := helmSecret(key, rls, "createdAt")
	if err != nil {
		return fmt.Errorf("create: failed to encode release %q: %w", rls.Name, err)
	}
	gen, err := s.writeChunks(ctx, head, rls)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if _, err := s.secrets.Create(ctx, head, metav1.CreateOptions{}); err != nil {
		if gen != "" {
			s.discardChunks(ctx, key, gen)
		}
		if apierrors.IsAlreadyExists(err) {
			return driver.ErrReleaseExists
		}
		return fmt.Errorf("create: failed to create: %w", err)
	}
	return nil
}

// Update replaces a record: new chunks first (a new generation), then the
// head, then the chunks the old head named.
func (s *releaseStore) Update(key string, rel release.Releaser) error {
	ctx := context.Background()
	rls, err := asV1Release(rel)
	if err != nil {
		return err
	}
	old, err := s.secrets.Get(ctx, key, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("update: failed to update: %w", err)
	}
	head, err := helmSecret(key, rls, "modifiedAt")
	if err != nil {
		return fmt.Errorf("update: failed to encode release %q: %w", rls.Name, err)
	}
	// Only over the head read above: its old chunks are then ours to drop.
	head.ResourceVersion = old.ResourceVersion
	gen, err := s.writeChunks(ctx, head, rls)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if _, err := s.secrets.Update(ctx, head, metav1.UpdateOptions{}); err != nil {
		if gen != "" {
			s.discardChunks(ctx, key, gen)
		}
		return fmt.Errorf("update: failed to update: %w", err)
	}
	if oldGen := old.Annotations[storeAnnotationGeneration]; oldGen != "" && oldGen != gen {
		if err := s.dropChunks(ctx, key, oldGen); err != nil {
			s.log.Warn("helm: could not delete the previous chunks of a release record", "secret", key, "error", err)
		}
	}
	return nil
}

// Delete removes a record: the head, then all its chunks. A record that
// cannot be read is removed too, and the reason returned.
func (s *releaseStore) Delete(key string) (release.Releaser, error) {
	ctx := context.Background()
	obj, err := s.secrets.Get(ctx, key, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, driver.ErrReleaseNotFound
		}
		return nil, fmt.Errorf("delete: failed to get %q: %w", key, err)
	}
	rls, readErr := s.read(ctx, obj)
	uid := obj.UID
	if err := s.secrets.Delete(ctx, key, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, driver.ErrReleaseNotFound
		}
		return nil, err
	}
	if err := s.dropChunks(ctx, key, ""); err != nil {
		return nil, fmt.Errorf("delete: release record %s removed, but not all its chunks (kubectl delete secret -l %s=%s): %w", key, storeLabelChunkOf, chunkOfLabel(key), err)
	}
	if readErr != nil {
		return nil, fmt.Errorf("delete: release record %s could not be read, and was removed with its chunks: %w", key, readErr)
	}
	rls.Labels = withoutSystemLabels(obj.Labels)
	return rls, nil
}

// errChunked marks errors of a chunked record's chunks or checksums.
var errChunked = errors.New("chunked release record")

// read decodes the record a head Secret holds or names.
func (s *releaseStore) read(ctx context.Context, obj *corev1.Secret) (*releasev1.Release, error) {
	data := obj.Data[storeReleaseKey]
	if obj.Annotations[storeAnnotationChunks] != "" {
		joined, err := s.join(ctx, obj)
		if err != nil {
			return nil, err
		}
		data = joined
	}
	rls, err := decodeRecord(data)
	if err != nil {
		return nil, fmt.Errorf("failed to decode data %q: %w", obj.Name, err)
	}
	return rls, nil
}

// join reads and checks the chunks a head names.
func (s *releaseStore) join(ctx context.Context, head *corev1.Secret) ([]byte, error) {
	what := fmt.Sprintf("release %q revision %s (Secret %s)", head.Labels["name"], head.Labels["version"], head.Name)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", errChunked, what, fmt.Sprintf(format, args...))
	}
	nText := head.Annotations[storeAnnotationChunks]
	n, err := strconv.Atoi(nText)
	if err != nil || n < 1 {
		return nil, fail("annotation %s=%q is not a chunk count", storeAnnotationChunks, nText)
	}
	gen := head.Annotations[storeAnnotationGeneration]
	var sums []string
	if t := head.Annotations[storeAnnotationChunkSums]; t != "" {
		sums = strings.Split(t, ",")
		if len(sums) != n {
			return nil, fail("%d chunk checksums for %d chunks", len(sums), n)
		}
	}
	var data []byte
	for k := range n {
		name := storeChunkName(head.Name, gen, k)
		chunk, err := s.secrets.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, fail("chunk %d of %d (Secret %s) is missing", k+1, n, name)
		}
		if err != nil {
			return nil, fail("chunk %d of %d (Secret %s): %v", k+1, n, name, err)
		}
		part := chunk.Data[storeChunkKey]
		if sums != nil && sha256Hex(part) != sums[k] {
			return nil, fail("chunk %d of %d (Secret %s) does not match its checksum: it was changed after it was written", k+1, n, name)
		}
		data = append(data, part...)
	}
	if sha256Hex(data) != head.Annotations[storeAnnotationSHA256] {
		return nil, fail("its %d chunks (Secrets %s.c*) do not match the record's checksum: a chunk was changed or replaced", n, head.Name+"."+gen)
	}
	return data, nil
}

// writeChunks stores the chunks of a head whose record is too large for one
// Secret and turns the head into their marker; it returns the generation
// ("" when the record fits and the head is left as is). On error, the
// chunks written are deleted.
func (s *releaseStore) writeChunks(ctx context.Context, head *corev1.Secret, rls *releasev1.Release) (string, error) {
	data := head.Data[storeReleaseKey]
	if len(data) <= s.limit {
		return "", nil
	}
	gen := strconv.FormatInt(time.Now().UnixNano(), 36)
	n := (len(data) + s.limit - 1) / s.limit
	sums := make([]string, n)
	for k := range n {
		part := data[k*s.limit : min((k+1)*s.limit, len(data))]
		sums[k] = sha256Hex(part)
		chunk := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: storeChunkName(head.Name, gen, k),
				Labels: map[string]string{
					"owner":              storeChunkOwner,
					"name":               rls.Name,
					"version":            strconv.Itoa(rls.Version),
					storeLabelChunkOf:    chunkOfLabel(head.Name),
					storeLabelChunkIndex: strconv.Itoa(k),
					storeLabelGeneration: gen,
				},
			},
			Type: storeChunkType,
			Data: map[string][]byte{storeChunkKey: part},
		}
		if _, err := s.secrets.Create(ctx, chunk, metav1.CreateOptions{}); err != nil {
			s.discardChunks(ctx, head.Name, gen)
			return "", fmt.Errorf("storing release %q revision %d (Secret %s): chunk %d of %d: %w", rls.Name, rls.Version, head.Name, k+1, n, err)
		}
	}
	head.Data = map[string][]byte{storeReleaseKey: nil}
	if head.Annotations == nil {
		head.Annotations = map[string]string{}
	}
	head.Annotations[storeAnnotationChunks] = strconv.Itoa(n)
	head.Annotations[storeAnnotationGeneration] = gen
	head.Annotations[storeAnnotationSHA256] = sha256Hex(data)
	head.Annotations[storeAnnotationChunkSums] = strings.Join(sums, ",")
	return gen, nil
}

// discardChunks deletes the chunks of a write that did not go through;
// any left are only logged (no head names them; Delete removes them).
func (s *releaseStore) discardChunks(ctx context.Context, head, gen string) {
	if err := s.dropChunks(ctx, head, gen); err != nil {
		s.log.Warn("helm: could not delete the chunks of a release record not written", "secret", head, "generation", gen, "error", err)
	}
}

// dropChunks deletes the chunks of a head: of one generation, or all ("",
// orphans of an interrupted write included).
func (s *releaseStore) dropChunks(ctx context.Context, head, gen string) error {
	if head == "" {
		return nil
	}
	list, err := s.secrets.List(ctx, metav1.ListOptions{LabelSelector: storeLabelChunkOf + "=" + chunkOfLabel(head)})
	if err != nil {
		return err
	}
	prefix := head + "."
	if gen != "" {
		prefix = head + "." + gen + ".c"
	}
	var errs []error
	for _, c := range list.Items {
		if c.Type != storeChunkType || !strings.HasPrefix(c.Name, prefix) {
			continue
		}
		if err := s.secrets.Delete(ctx, c.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("chunk %s: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}

// helmSecret is the Secret Helm's driver writes for a record: same name,
// type, labels (stamp is createdAt or modifiedAt) and data.
func helmSecret(key string, rls *releasev1.Release, stamp string) (*corev1.Secret, error) {
	data, err := encodeRecord(rls)
	if err != nil {
		return nil, err
	}
	lbs := map[string]string{}
	for k, v := range rls.Labels {
		lbs[k] = v
	}
	lbs[stamp] = strconv.FormatInt(time.Now().Unix(), 10)
	for k, v := range rls.Labels { // as Helm: the record's own labels win over the stamp
		lbs[k] = v
	}
	lbs["name"] = rls.Name
	lbs["owner"] = "helm"
	lbs["status"] = rls.Info.Status.String()
	lbs["version"] = strconv.Itoa(rls.Version)
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: key, Labels: lbs},
		Type:       storeReleaseType,
		Data:       map[string][]byte{storeReleaseKey: data},
	}, nil
}

// encodeRecord is Helm's encoding of a record: JSON, gzip (best
// compression), base64.
func encodeRecord(rls *releasev1.Release) ([]byte, error) {
	b, err := json.Marshal(rls)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		_ = w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(buf.Len()))
	base64.StdEncoding.Encode(out, buf.Bytes())
	return out, nil
}

// decodeRecord is Helm's decoding: base64, gzip when it has gzip's magic
// (records from before Helm compressed them have not), JSON.
func decodeRecord(data []byte) (*releasev1.Release, error) {
	b, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, err
	}
	if len(b) > 3 && bytes.Equal(b[:3], []byte{0x1f, 0x8b, 0x08}) {
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		defer func() { _ = r.Close() }()
		if b, err = io.ReadAll(r); err != nil {
			return nil, err
		}
	}
	var rls releasev1.Release
	if err := json.Unmarshal(b, &rls); err != nil {
		return nil, err
	}
	return &rls, nil
}

func asV1Release(rel release.Releaser) (*releasev1.Release, error) {
	switch r := rel.(type) {
	case releasev1.Release:
		return &r, nil
	case *releasev1.Release:
		if r == nil {
			return nil, errors.New("nil release")
		}
		return r, nil
	default:
		return nil, fmt.Errorf("unsupported release type: %T", rel)
	}
}

func withoutSystemLabels(lbs map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range lbs {
		if !slices.Contains(storeSystemLabels, k) {
			out[k] = v
		}
	}
	return out
}

func storeChunkName(head, gen string, k int) string {
	return fmt.Sprintf("%s.%s.c%d", head, gen, k)
}

// chunkOfLabel fits a head's name into a label value (63 characters).
func chunkOfLabel(head string) string {
	sum := sha256.Sum256([]byte(head))
	return hex.EncodeToString(sum[:12])
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
