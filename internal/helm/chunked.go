package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Release records are stored by Helm's own Secret driver, through
// chunkedSecrets: a record that fits in one Secret is written exactly as
// Helm writes it (plain helm, Helm 3 and addon-operator read it); a larger
// one (modules with many CRDs pass the API server's 1 MiB Secret limit,
// where Helm, Flux and DKP fail) is split into chunk Secrets written first,
// and the head Secret only names them, with a checksum of the whole, so a
// reader never takes a partial record for a whole one.
const (
	// chunkSize is the most release bytes one chunk Secret holds, well
	// under the 1 MiB limit of a Secret's data.
	chunkSize = 900 << 10
	// releaseKey is where Helm's Secret driver keeps the encoded record.
	releaseKey = "release"

	annotationChunks     = "deckhand.io/release-chunks"
	annotationGeneration = "deckhand.io/release-generation"
	annotationSHA256     = "deckhand.io/release-sha256"
	labelChunkOf         = "deckhand.io/release-chunk-of"
	labelReleaseName     = "deckhand.io/release-name"
	labelReleaseVersion  = "deckhand.io/release-version"
	chunkSecretType      = "deckhand.io/release-chunk"
)

// chunkedSecrets is the Secret client Helm's driver writes release records
// through; it splits and joins large records and passes the rest on.
type chunkedSecrets struct {
	typedcorev1.SecretInterface
	limit int // chunkSize; smaller in tests
}

func newChunkedSecrets(s typedcorev1.SecretInterface) *chunkedSecrets {
	return &chunkedSecrets{SecretInterface: s, limit: chunkSize}
}

func (c *chunkedSecrets) Create(ctx context.Context, s *corev1.Secret, opts metav1.CreateOptions) (*corev1.Secret, error) {
	head, err := c.split(ctx, s)
	if err != nil {
		return nil, err
	}
	out, err := c.SecretInterface.Create(ctx, head, opts)
	if err != nil && head != s {
		// The head was not written: its chunks must not stay behind.
		c.deleteChunks(ctx, s.Name, head.Annotations[annotationGeneration])
	}
	return out, err
}

func (c *chunkedSecrets) Update(ctx context.Context, s *corev1.Secret, opts metav1.UpdateOptions) (*corev1.Secret, error) {
	old, _ := c.SecretInterface.Get(ctx, s.Name, metav1.GetOptions{})
	head, err := c.split(ctx, s)
	if err != nil {
		return nil, err
	}
	out, err := c.SecretInterface.Update(ctx, head, opts)
	if err != nil {
		if head != s {
			c.deleteChunks(ctx, s.Name, head.Annotations[annotationGeneration])
		}
		return nil, err
	}
	// The new record is in place: the old generation's chunks can go.
	if old != nil && old.Annotations[annotationGeneration] != "" && old.Annotations[annotationGeneration] != head.Annotations[annotationGeneration] {
		c.deleteChunks(ctx, s.Name, old.Annotations[annotationGeneration])
	}
	return out, nil
}

func (c *chunkedSecrets) Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Secret, error) {
	s, err := c.SecretInterface.Get(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	return s, c.join(ctx, s)
}

func (c *chunkedSecrets) List(ctx context.Context, opts metav1.ListOptions) (*corev1.SecretList, error) {
	list, err := c.SecretInterface.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	// A damaged record fails a query for its own release (its history
	// must not silently lose the newest revision), but is left out of a
	// listing of all releases, so one bad release never hides the others.
	perRelease := strings.Contains(opts.LabelSelector, "name=")
	kept := list.Items[:0]
	for i := range list.Items {
		if err := c.join(ctx, &list.Items[i]); err != nil {
			if perRelease {
				return nil, err
			}
			continue
		}
		kept = append(kept, list.Items[i])
	}
	list.Items = kept
	return list, nil
}

func (c *chunkedSecrets) Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error {
	if err := c.SecretInterface.Delete(ctx, name, opts); err != nil {
		return err
	}
	c.deleteChunks(ctx, name, "")
	return nil
}

// split writes the chunks of a record that is too large for one Secret and
// returns the head to write in its place; a small record is returned as is.
func (c *chunkedSecrets) split(ctx context.Context, s *corev1.Secret) (*corev1.Secret, error) {
	data := s.Data[releaseKey]
	if len(data) <= c.limit {
		return s, nil
	}
	gen := strconv.FormatInt(time.Now().UnixNano(), 36)
	n := (len(data) + c.limit - 1) / c.limit
	for k := range n {
		part := data[k*c.limit : min((k+1)*c.limit, len(data))]
		chunk := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: chunkName(s.Name, gen, k),
				Labels: map[string]string{
					labelChunkOf: chunkLabel(s.Name),
					// For people listing Secrets; Helm's own labels
					// (owner=helm) stay off chunks, Helm would read them.
					labelReleaseName:    s.Labels["name"],
					labelReleaseVersion: s.Labels["version"],
				},
			},
			Type: chunkSecretType,
			Data: map[string][]byte{"chunk": part},
		}
		if _, err := c.SecretInterface.Create(ctx, chunk, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("storing release %s: chunk %d of %d: %w", s.Name, k+1, n, err)
		}
	}
	sum := sha256.Sum256(data)
	head := s.DeepCopy()
	head.Data[releaseKey] = nil
	if head.Annotations == nil {
		head.Annotations = map[string]string{}
	}
	head.Annotations[annotationChunks] = strconv.Itoa(n)
	head.Annotations[annotationGeneration] = gen
	head.Annotations[annotationSHA256] = hex.EncodeToString(sum[:])
	return head, nil
}

// join puts a chunked record back into its head, checking it whole.
func (c *chunkedSecrets) join(ctx context.Context, s *corev1.Secret) error {
	nText := s.Annotations[annotationChunks]
	if nText == "" {
		return nil
	}
	n, err := strconv.Atoi(nText)
	if err != nil || n < 1 {
		return fmt.Errorf("release record %s: annotation %s=%q is not a chunk count", s.Name, annotationChunks, nText)
	}
	gen := s.Annotations[annotationGeneration]
	var data []byte
	for k := range n {
		chunk, err := c.SecretInterface.Get(ctx, chunkName(s.Name, gen, k), metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("release record %s: chunk %d of %d: %w", s.Name, k+1, n, err)
		}
		data = append(data, chunk.Data["chunk"]...)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != s.Annotations[annotationSHA256] {
		return fmt.Errorf("release record %s: its %d chunks do not match the record's checksum (a chunk was changed or lost)", s.Name, n)
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	s.Data[releaseKey] = data
	return nil
}

// deleteChunks removes the chunks of a record (of one generation, or all).
func (c *chunkedSecrets) deleteChunks(ctx context.Context, name, gen string) {
	list, err := c.SecretInterface.List(ctx, metav1.ListOptions{LabelSelector: labelChunkOf + "=" + chunkLabel(name)})
	if err != nil {
		return
	}
	for _, s := range list.Items {
		if gen != "" && !hasGeneration(s.Name, name, gen) {
			continue
		}
		if err := c.SecretInterface.Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			continue
		}
	}
}

// chunkLabel fits a head Secret's name into a label value (63 characters).
func chunkLabel(head string) string {
	sum := sha256.Sum256([]byte(head))
	return hex.EncodeToString(sum[:12])
}

func chunkName(head, gen string, k int) string {
	return fmt.Sprintf("%s.%s.c%d", head, gen, k)
}

func hasGeneration(chunk, head, gen string) bool {
	prefix := head + "." + gen + ".c"
	return len(chunk) > len(prefix) && chunk[:len(prefix)] == prefix
}
