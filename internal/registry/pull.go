package registry

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"
)

// PullOptions tune Pull.
type PullOptions struct {
	Limits   UnpackLimits
	Progress ProgressFunc
	// Force replaces a non-empty dir that deckhand did not pull (see
	// PullMarkerFile).
	Force bool
	// Digest, when set, pulls the image by this manifest digest rather than
	// by its tag: the digest a signature was verified for, so a tag moved
	// in between cannot slip in other content.
	Digest string
}

// PullResult says what Pull unpacked.
type PullResult struct {
	Source  string `json:"source"`
	Module  string `json:"module"`
	Version string `json:"version"`
	Digest  string `json:"digest"`
	Dir     string `json:"dir"`
}

// Pull downloads the module image of a version (or of the version a channel
// points at) and unpacks it safely into dir, replacing dir as a whole. A
// non-empty dir that deckhand did not pull is refused with a *NotPulledError
// unless opts.Force.
func (c *Client) Pull(ctx context.Context, source, module, versionOrChannel, dir string, opts PullOptions) (*PullResult, error) {
	mv, err := c.resolveModuleVersion(ctx, source, module, versionOrChannel)
	if err != nil {
		return nil, err
	}
	return c.pullRef(ctx, mv.src, module, mv.version, mv.bundle, dir, opts)
}

// pullRef downloads the image at ref and unpacks it into dir, recording
// label (a version or a tag) in the pull marker.
func (c *Client) pullRef(ctx context.Context, src name.Repository, module, label string, ref name.Reference, dir string, opts PullOptions) (*PullResult, error) {
	if opts.Digest != "" {
		d, err := name.NewDigest(ref.Context().Name()+"@"+opts.Digest, c.nameOptions()...)
		if err != nil {
			return nil, fmt.Errorf("digest %s: %w", opts.Digest, err)
		}
		ref = d
	}
	var img v1.Image
	err := withRetries(ctx, c.opts.backoff, c.opts.sleep, func() (err error) {
		img, err = c.remoteImage(ctx, ref)
		if err == nil {
			// Read now, so a manifest cut off mid-body is fetched again.
			_, err = img.RawManifest()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("module %s %s: %w", module, label, err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	puller, err := remote.NewPuller(c.remoteOptions(ctx)...)
	if err != nil {
		return nil, err
	}
	repo := ref.Context()
	f := imageFetch{
		what: repo.Name() + "@" + d.String(), ctx: ctx, backoff: c.opts.backoff, sleep: c.opts.sleep,
		open: func(desc v1.Descriptor) (io.ReadCloser, error) {
			l, err := puller.Layer(ctx, repo.Digest(desc.Digest.String()))
			if err != nil {
				return nil, err
			}
			return l.Compressed()
		},
	}
	uo := UnpackOptions{Limits: opts.Limits, Force: opts.Force,
		Marker: PullMarker{Source: src.Name(), Module: module, Version: label, Digest: d.String()}}
	if err := unpackImage(img, f, dir, uo, opts.Progress); err != nil {
		return nil, fmt.Errorf("module %s %s: %w", module, label, err)
	}
	return &PullResult{Source: src.Name(), Module: module, Version: label, Digest: d.String(), Dir: dir}, nil
}

// UnpackImage extracts all layers of img (an image at hand, as in an OCI
// layout) into dir (see UnpackTars), reporting compressed bytes read to
// progress. The manifest, config and every layer are checked against what
// they declare before anything is unpacked. The marker's digest defaults to
// img's.
func UnpackImage(img v1.Image, dir string, opts UnpackOptions, progress ProgressFunc) error {
	what := "image"
	if d, err := img.Digest(); err == nil {
		what = "image " + d.String()
	}
	return unpackImage(img, localFetch(what, img), dir, opts, progress)
}

// withTarStream decompresses the layer being read from br (gzip, zstd or
// plain tar, told by its magic bytes) inline, from the one download, and
// hands the tar stream to yield.
func withTarStream(br *bufio.Reader, yield func(io.Reader) error) error {
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("reading gzip layer: %w", err)
		}
		defer func() { _ = zr.Close() }()
		return yield(zr)
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return fmt.Errorf("reading zstd layer: %w", err)
		}
		defer zr.Close()
		return yield(zr)
	default:
		return yield(br)
	}
}

type countingReader struct {
	r      io.Reader
	n      *int64
	report func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.report(atomic.AddInt64(c.n, int64(n)))
	}
	return n, err
}

// PullTag is Pull for any tag of the module repository (SOURCE/MODULE:TAG),
// a dev build a ModulePullOverride names, without resolving a version.
func (c *Client) PullTag(ctx context.Context, source, module, tag, dir string, opts PullOptions) (*PullResult, error) {
	src, err := c.parseRepo(source)
	if err != nil {
		return nil, err
	}
	ref, err := tagRef(src, module, tag, c.nameOptions())
	if err != nil {
		return nil, err
	}
	return c.pullRef(ctx, src, module, tag, ref, dir, opts)
}

// TagDigest returns the manifest digest SOURCE/MODULE:TAG points at now
// (one HEAD request), "" when the tag does not exist.
func (c *Client) TagDigest(ctx context.Context, source, module, tag string) (string, error) {
	src, err := c.parseRepo(source)
	if err != nil {
		return "", err
	}
	ref, err := tagRef(src, module, tag, c.nameOptions())
	if err != nil {
		return "", err
	}
	desc, err := c.head(ctx, ref)
	if err != nil || desc == nil {
		return "", err
	}
	return desc.Digest.String(), nil
}
