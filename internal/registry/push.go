package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrVersionExists means the version is already in the source with other content.
var ErrVersionExists = errors.New("version already published with different content")

// Update is one progress report: bytes done of a total.
type Update = v1.Update

// ProgressFunc receives byte counts of a transfer as it goes.
type ProgressFunc func(v1.Update)

// PushOptions tune Push.
type PushOptions struct {
	// Channels to point at this version (alpha, beta, early-access, stable, rock-solid, lts).
	Channels []string
	// Force overwrites a version already published with different content.
	Force bool
	// Progress receives upload progress of the version's blobs.
	Progress ProgressFunc
}

// PushResult says what Push placed where.
type PushResult struct {
	Source     string      `json:"source"`
	Module     string      `json:"module"`
	Version    string      `json:"version"`
	Placements []Placement `json:"artifacts"`
	// Images are the container images copied into the module repository.
	Images map[string]string `json:"images,omitempty"`
	// Unchanged is true when the version was already there with the same content.
	Unchanged bool `json:"unchanged"`
}

// Push publishes a into source: container images, bundle and release image
// first, then channel tags, and last the index tag that makes DKP discover the
// module, so nothing points at content that is not there yet.
func (c *Client) Push(ctx context.Context, source string, a *Artifacts, opts PushOptions) (*PushResult, error) {
	src, err := c.parseRepo(source)
	if err != nil {
		return nil, err
	}
	places, err := a.Placements(opts.Channels)
	if err != nil {
		return nil, err
	}
	res := &PushResult{Source: src.Name(), Module: a.Module, Version: a.Version, Placements: places}
	refs := make([]name.Tag, len(places))
	for i, pl := range places {
		if refs[i], err = tagRef(src, pl.Repository, pl.Tag, c.nameOptions()); err != nil {
			return nil, err
		}
	}

	// The version (bundle + release:vX) must be new, identical, or forced.
	pending := map[name.Reference]remote.Taggable{}
	same := 0
	for i := range 2 {
		desc, err := c.head(ctx, refs[i])
		if err != nil {
			return nil, err
		}
		switch {
		case desc == nil:
			pending[refs[i]] = places[i].Image
		case desc.Digest.String() == places[i].Digest:
			same++
		case !opts.Force:
			return nil, fmt.Errorf("%s has digest %s, this build is %s: %w (use --force to overwrite)", refs[i], desc.Digest, places[i].Digest, ErrVersionExists)
		default:
			pending[refs[i]] = places[i].Image
		}
	}
	res.Unchanged = same == 2

	moduleRepo, err := c.parseRepo(joinRepo(src, a.Module))
	if err != nil {
		return nil, err
	}
	res.Images = map[string]string{}
	for _, img := range a.images {
		target := moduleRepo.Digest(img.Digest)
		res.Images[img.Key] = target.String()
		if desc, err := c.head(ctx, target); err != nil {
			return nil, err
		} else if desc != nil {
			continue
		}
		t, err := c.fetchTaggable(ctx, img.From)
		if err != nil {
			return nil, fmt.Errorf("copying image %s from %s: %w", img.Key, img.Ref, err)
		}
		pending[target] = t
	}

	// Digests recorded without a source to copy from must already be there.
	copied := map[string]bool{}
	for _, img := range a.images {
		copied[img.Key] = true
	}
	for key, digest := range a.ImagesDigests {
		if copied[key] {
			continue
		}
		target := moduleRepo.Digest(digest)
		desc, err := c.head(ctx, target)
		if err != nil {
			return nil, err
		}
		if desc == nil {
			return nil, fmt.Errorf("images_digests.json of %s %s names %s = %s, which is not in %s: push it there first or build with --image", a.Module, a.Version, key, digest, moduleRepo)
		}
		res.Images[key] = target.String()
	}

	if len(pending) > 0 {
		if err := c.multiWrite(ctx, pending, opts.Progress); err != nil {
			return nil, fmt.Errorf("pushing %s %s to %s: %w", a.Module, a.Version, src, c.explainAuth(moduleRepo, err))
		}
	}
	// Channel tags and the index tag: small manifests, in order.
	for i := 2; i < len(places); i++ {
		desc, err := c.head(ctx, refs[i])
		if err != nil {
			return nil, err
		}
		if desc != nil && desc.Digest.String() == places[i].Digest {
			continue
		}
		if err := remote.Write(refs[i], places[i].Image, c.remoteOptions(ctx)...); err != nil {
			return nil, fmt.Errorf("tagging %s: %w", refs[i], c.explainAuth(refs[i].Context(), err))
		}
	}
	for _, r := range refs {
		c.forgetTags(r.Context())
	}
	return res, nil
}

// fetchTaggable reads a remote image or index for copying.
func (c *Client) fetchTaggable(ctx context.Context, ref name.Reference) (remote.Taggable, error) {
	desc, err := remote.Get(ref, c.remoteOptions(ctx)...)
	if err != nil {
		return nil, c.explainAuth(ref.Context(), err)
	}
	switch desc.MediaType {
	case types.OCIImageIndex, types.DockerManifestList:
		return desc.ImageIndex()
	default:
		return desc.Image()
	}
}

// multiWrite pushes pending with one progress stream.
func (c *Client) multiWrite(ctx context.Context, pending map[name.Reference]remote.Taggable, progress ProgressFunc) error {
	if progress == nil {
		return remote.MultiWrite(pending, c.remoteOptions(ctx)...)
	}
	updates := make(chan v1.Update, 16)
	done := make(chan struct{})
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for {
			select {
			case u, ok := <-updates:
				if !ok {
					return
				}
				progress(u)
			case <-done:
				return
			}
		}
	}()
	err := remote.MultiWrite(pending, c.remoteOptions(ctx, remote.WithProgress(updates))...)
	close(done)
	<-forwarded
	return err
}

// joinRepo returns the path of a repository under the source ("" = the source).
func joinRepo(src name.Repository, rel string) string {
	if rel == "" {
		return src.Name()
	}
	return src.Name() + "/" + rel
}

func tagRef(src name.Repository, rel, tag string, opts []name.Option) (name.Tag, error) {
	t, err := name.NewTag(joinRepo(src, rel)+":"+tag, opts...)
	if err != nil {
		return name.Tag{}, fmt.Errorf("reference %s:%s: %w", joinRepo(src, rel), tag, err)
	}
	return t, nil
}
