package registry

import (
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Annotations of the descriptors in an OCI layout written by WriteLayout.
const (
	// AnnotationRefName is the tag (OCI standard annotation).
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationRepository is the repository path relative to the source:
	// "" for the index tag, "<m>" for the bundle, "<m>/release" for releases.
	AnnotationRepository = "io.deckhand.repository"
)

// Placement is one tagged artifact: where in a source it goes and what it is.
type Placement struct {
	// Repository relative to the source ("" = the source itself).
	Repository string   `json:"repository"`
	Tag        string   `json:"tag"`
	Digest     string   `json:"digest"`
	Image      v1.Image `json:"-"`
}

// Placements lists the tagged artifacts of a, in the order they must become
// visible: bundle, release, channels, and last the index tag that makes DKP
// discover the module.
func (a *Artifacts) Placements(channels []string) ([]Placement, error) {
	out := []Placement{
		{Repository: a.Module, Tag: a.Version, Image: a.Bundle},
		{Repository: a.Module + "/release", Tag: a.Version, Image: a.Release},
	}
	seen := map[string]bool{}
	for _, ch := range channels {
		if err := ValidateChannel(ch); err != nil {
			return nil, err
		}
		if seen[ch] {
			continue
		}
		seen[ch] = true
		out = append(out, Placement{Repository: a.Module + "/release", Tag: ch, Image: a.Release})
	}
	out = append(out, Placement{Repository: "", Tag: a.Module, Image: a.Index})
	for i := range out {
		d, err := out[i].Image.Digest()
		if err != nil {
			return nil, fmt.Errorf("digest of %s:%s: %w", out[i].Repository, out[i].Tag, err)
		}
		out[i].Digest = d.String()
	}
	return out, nil
}

// WriteLayout writes the artifacts (and channel tags) to a new OCI image
// layout at dir, one descriptor per placement, annotated with its tag and
// repository. dir must not exist or be empty.
func WriteLayout(dir string, a *Artifacts, channels []string) ([]Placement, error) {
	if err := clearLayout(dir); err != nil {
		return nil, err
	}
	places, err := a.Placements(channels)
	if err != nil {
		return nil, err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, fmt.Errorf("creating OCI layout %s: %w", dir, err)
	}
	for _, pl := range places {
		err := p.AppendImage(pl.Image, layout.WithAnnotations(map[string]string{
			AnnotationRefName:    pl.Tag,
			AnnotationRepository: pl.Repository,
		}))
		if err != nil {
			return nil, fmt.Errorf("writing %s:%s to %s: %w", pl.Repository, pl.Tag, dir, err)
		}
	}
	return places, nil
}

// clearLayout empties dir if it holds only an OCI layout (a previous build),
// and refuses any other non-empty directory.
func clearLayout(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return nil
	}
	for _, e := range entries {
		switch e.Name() {
		case "oci-layout", "index.json", "blobs":
		default:
			return fmt.Errorf("output directory %s is not empty and not an OCI layout (holds %s)", dir, e.Name())
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("replacing OCI layout %s: %w", dir, err)
	}
	return nil
}

// ReadLayout loads artifacts written by WriteLayout, with the channel tags
// they carried. Container images are not in a layout: Push then requires the
// digests of images_digests.json to be in the module repository already.
func ReadLayout(dir string) (*Artifacts, []string, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	a := &Artifacts{}
	var channels []string
	for _, d := range im.Manifests {
		repo, tag := d.Annotations[AnnotationRepository], d.Annotations[AnnotationRefName]
		img, err := p.Image(d.Digest)
		if err != nil {
			return nil, nil, fmt.Errorf("OCI layout %s: image %s: %w", dir, d.Digest, err)
		}
		switch {
		case repo == "" && tag != "":
			a.Module, a.Index = tag, img
		case strings.HasSuffix(repo, "/release") && IsChannel(tag):
			channels = append(channels, tag)
		case strings.HasSuffix(repo, "/release"):
			a.Release = img
		case repo != "":
			a.Bundle, a.Version = img, tag
		}
	}
	if a.Bundle == nil || a.Release == nil || a.Index == nil {
		return nil, nil, fmt.Errorf("OCI layout %s: not written by `deckhand module build` (module, release or index image missing)", dir)
	}
	if _, err := ParseVersion(a.Version); err != nil {
		return nil, nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	files, err := readImageFiles(a.Bundle, "images_digests.json")
	if err != nil {
		return nil, nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	a.ImagesDigests = map[string]string{}
	if data, ok := files["images_digests.json"]; ok {
		if a.ImagesDigests, err = parseImagesDigests(data); err != nil {
			return nil, nil, fmt.Errorf("OCI layout %s: %w", dir, err)
		}
	}
	return a, channels, nil
}
