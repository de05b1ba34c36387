package registry

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// imageFetch is how unpackImage gets the blobs of one image.
type imageFetch struct {
	// what names the image in errors (repository and manifest digest).
	what string
	// open starts reading the blob d describes.
	open func(d v1.Descriptor) (io.ReadCloser, error)
	// A download that breaks off is tried again, up to backoff.Steps times.
	ctx     context.Context
	backoff remote.Backoff
	sleep   sleepFunc
}

// localFetch reads an image that is not behind a network (an OCI layout):
// one attempt per blob.
func localFetch(what string, img v1.Image) imageFetch {
	return imageFetch{
		what:    what,
		ctx:     context.Background(),
		backoff: remote.Backoff{Steps: 1},
		sleep:   sleepCtx,
		open: func(d v1.Descriptor) (io.ReadCloser, error) {
			if mt := d.MediaType; mt.IsConfig() {
				raw, err := img.RawConfigFile()
				if err != nil {
					return nil, err
				}
				return io.NopCloser(bytes.NewReader(raw)), nil
			}
			l, err := img.LayerByDigest(d.Digest)
			if err != nil {
				return nil, err
			}
			return l.Compressed()
		},
	}
}

// download copies the blob d into w, checking it against d: exactly d.Size
// bytes with digest d.Digest. It retries a transfer that breaks off; reset
// (if not nil) is called before each new attempt so w starts over.
func (f imageFetch) download(name string, d v1.Descriptor, w io.Writer, reset func() error, progress func(int64)) error {
	attempt := 0
	err := withRetries(f.ctx, f.backoff, f.sleep, func() error {
		attempt++
		if attempt > 1 && reset != nil {
			if err := reset(); err != nil {
				return err
			}
		}
		rc, err := f.open(d)
		if err != nil {
			return err
		}
		defer func() { _ = rc.Close() }()
		h := sha256.New()
		var r io.Reader = io.LimitReader(rc, d.Size+1)
		if progress != nil {
			r = &countingReader{r: r, n: new(int64), report: progress}
		}
		n, err := io.Copy(io.MultiWriter(w, h), r)
		if retryable(err) {
			return err
		}
		if n != d.Size {
			more := ""
			if n > d.Size {
				more = " or more"
			}
			return fmt.Errorf("%w: the registry served %d%s bytes, its descriptor says %d", ErrMalformedImage, n, more, d.Size)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformedImage, err)
		}
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != d.Digest.String() {
			return fmt.Errorf("%w: the content served has digest %s", ErrMalformedImage, got)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: fetching %s %s (after %d attempt(s)): %w", f.what, name, d.Digest, attempt, err)
	}
	return nil
}

// unpackImage checks img (manifest, then config), downloads and verifies
// every layer into a sibling spool directory, and only then unpacks them into
// dir with UnpackTars: an image that is not what it says, or a download that
// fails, leaves dir as it was and writes nothing into it.
func unpackImage(img v1.Image, f imageFetch, dir string, opts UnpackOptions, progress ProgressFunc) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("unpack target: %w", err)
	}
	// Refused before anything is downloaded.
	if err := checkReplaceable(abs, opts.Force); err != nil {
		return err
	}
	m, err := checkedManifest(f.what, img)
	if err != nil {
		return err
	}
	if opts.Marker.Digest == "" {
		d, err := img.Digest()
		if err != nil {
			return fmt.Errorf("%s: reading image digest: %w", f.what, err)
		}
		opts.Marker.Digest = d.String()
	}
	var cfg bytes.Buffer
	if err := f.download("config", m.Config, &cfg, func() error { cfg.Reset(); return nil }, nil); err != nil {
		return err
	}
	if err := checkConfig(f.what, m, cfg.Bytes()); err != nil {
		return err
	}

	parent := filepath.Dir(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	spool, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".download-")
	if err != nil {
		return fmt.Errorf("creating a download dir next to %s: %w", abs, err)
	}
	defer func() { _ = os.RemoveAll(spool) }()
	var total, done int64
	for _, l := range m.Layers {
		total += l.Size
	}
	files := make([]string, len(m.Layers))
	for i, l := range m.Layers {
		files[i] = filepath.Join(spool, strconv.Itoa(i))
		var report func(int64)
		base := done
		if progress != nil {
			report = func(n int64) { progress(v1.Update{Total: total, Complete: base + n}) }
		}
		if err := downloadFile(f, "layer "+strconv.Itoa(i), l, files[i], report); err != nil {
			return err
		}
		done += l.Size
	}

	return UnpackTars(abs, opts, func(yield func(io.Reader) error) error {
		for i, p := range files {
			if err := unpackFile(p, yield); err != nil {
				return fmt.Errorf("layer %d (%s): %w", i, m.Layers[i].Digest, err)
			}
		}
		return nil
	})
}

// downloadFile downloads the blob d into the new file p.
func downloadFile(f imageFetch, name string, d v1.Descriptor, p string, report func(int64)) error {
	out, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", f.what, err)
	}
	reset := func() error {
		if err := out.Truncate(0); err != nil {
			return err
		}
		_, err := out.Seek(0, io.SeekStart)
		return err
	}
	err = f.download(name, d, out, reset, report)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s: writing %s: %w", f.what, p, cerr)
	}
	return err
}

// unpackFile hands the tar stream of the downloaded layer at p to yield.
func unpackFile(p string, yield func(io.Reader) error) error {
	in, err := os.Open(p)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	return withTarStream(bufio.NewReader(in), yield)
}
