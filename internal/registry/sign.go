package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// cosign's signature layout (what `cosign sign --key` writes and `cosign
// verify --key` reads): the signatures of the image with digest D live in
// the image tagged sha256-<hex of D>.sig next to it, one layer each; a
// layer's content is the simple-signing payload naming D, its annotation
// the base64 signature over that payload.
const (
	simpleSigningMediaType = types.MediaType("application/vnd.dev.cosign.simplesigning.v1+json")
	signatureAnnotation    = "dev.cosignproject.cosign/signature"
	signatureType          = "cosign container image signature"
	// sigArtifactType is cosign's artifact type of a signature stored as an
	// OCI 1.1 referrer (subject = the signed image).
	sigArtifactType = types.MediaType("application/vnd.dev.cosign.artifact.sig.v1+json")
)

// simpleSigning is the payload a signature covers.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// signatureRef is the .sig tag of digest in repo.
func signatureRef(repo name.Repository, digest v1.Hash) (name.Tag, error) {
	return name.NewTag(repo.Name() + ":" + digest.Algorithm + "-" + digest.Hex + ".sig")
}

// SignatureResult says what one image's signature covers.
type SignatureResult struct {
	Image  string `json:"image"`
	Digest string `json:"digest"`
	KeyID  string `json:"keyID,omitempty"`
	// SignedBy lists the keys whose signature verified (Verify).
	SignedBy []string `json:"signedBy,omitempty"`
}

// signImage signs the image ref points at, adding its signature to the
// image's .sig (several keys may sign one image).
func (c *Client) signImage(ctx context.Context, ref name.Reference, key *SigningKey) (*SignatureResult, error) {
	desc, err := remote.Head(ref, c.remoteOptions(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, c.explainAuth(ref.Context(), err))
	}
	var p simpleSigning
	p.Critical.Identity.DockerReference = ref.Context().Name()
	p.Critical.Image.DockerManifestDigest = desc.Digest.String()
	p.Critical.Type = signatureType
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	sig, err := key.SignMessage(bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", ref, err)
	}
	sigRef, err := signatureRef(ref.Context(), desc.Digest)
	if err != nil {
		return nil, err
	}
	base := empty.Image
	if existing, err := remote.Image(sigRef, c.remoteOptions(ctx)...); err == nil {
		base = existing
	} else if !isNotFound(err) {
		return nil, fmt.Errorf("reading %s: %w", sigRef, err)
	}
	base = mutate.MediaType(base, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	layer := static.NewLayer(payload, simpleSigningMediaType)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, Annotations: map[string]string{
		signatureAnnotation: base64.StdEncoding.EncodeToString(sig),
	}})
	if err != nil {
		return nil, err
	}
	if err := remote.Write(sigRef, img, c.remoteOptions(ctx)...); err != nil {
		return nil, fmt.Errorf("pushing %s: %w", sigRef, c.explainAuth(sigRef.Context(), err))
	}
	if err := c.writeReferrer(ctx, ref.Context(), desc, layer, sig); err != nil {
		return nil, err
	}
	return &SignatureResult{Image: ref.Context().Name(), Digest: desc.Digest.String(), KeyID: key.KeyID}, nil
}

// writeReferrer stores the signature a second time as an OCI 1.1 referrer
// of the signed image (go-containerregistry keeps the referrers tag
// fallback up to date on registries without the Referrers API).
func (c *Client) writeReferrer(ctx context.Context, repo name.Repository, subject *v1.Descriptor, layer v1.Layer, sig []byte) error {
	img, err := mutate.Append(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), sigArtifactType), mutate.Addendum{
		Layer: layer, Annotations: map[string]string{signatureAnnotation: base64.StdEncoding.EncodeToString(sig)},
	})
	if err != nil {
		return err
	}
	withSubject, ok := mutate.Subject(img, v1.Descriptor{MediaType: subject.MediaType, Size: subject.Size, Digest: subject.Digest}).(v1.Image)
	if !ok {
		return fmt.Errorf("building the referrer of %s", subject.Digest)
	}
	d, err := withSubject.Digest()
	if err != nil {
		return err
	}
	ref := repo.Digest(d.String())
	if err := remote.Write(ref, withSubject, c.remoteOptions(ctx)...); err != nil {
		return fmt.Errorf("pushing the signature referrer of %s: %w", subject.Digest, err)
	}
	return nil
}

// ErrNotSigned is returned (wrapped) when an image has no signature a key accepts.
var ErrNotSigned = errors.New("not signed by a trusted key")

// verifyImage checks that a signature by one of keys covers the image ref
// points at now: a re-pushed image has another digest, which no signature
// names.
func (c *Client) verifyImage(ctx context.Context, ref name.Reference, keys []VerifyKey) (*SignatureResult, error) {
	desc, err := remote.Head(ref, c.remoteOptions(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, c.explainAuth(ref.Context(), err))
	}
	res := &SignatureResult{Image: ref.Context().Name(), Digest: desc.Digest.String()}
	sigRef, err := signatureRef(ref.Context(), desc.Digest)
	if err != nil {
		return nil, err
	}
	found := 0
	sigImg, err := remote.Image(sigRef, c.remoteOptions(ctx)...)
	switch {
	case err == nil:
		n, err := checkSignatures(sigImg, res, keys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sigRef, err)
		}
		found += n
	case !isNotFound(err):
		return nil, fmt.Errorf("reading %s: %w", sigRef, err)
	}
	if len(res.SignedBy) == 0 {
		// Signatures stored as OCI 1.1 referrers (cosign's oci-1-1 mode).
		n, err := c.checkReferrers(ctx, ref.Context().Digest(desc.Digest.String()), res, keys)
		if err != nil {
			return nil, err
		}
		found += n
	}
	if found == 0 {
		return res, fmt.Errorf("%s@%s: no signature (%s or referrers): %w", res.Image, res.Digest, sigRef.TagStr(), ErrNotSigned)
	}
	if len(res.SignedBy) == 0 {
		return res, fmt.Errorf("%s@%s: %d signature(s), none by the trusted keys: %w", res.Image, res.Digest, found, ErrNotSigned)
	}
	return res, nil
}

// checkReferrers verifies the cosign signatures stored as referrers of d.
func (c *Client) checkReferrers(ctx context.Context, d name.Digest, res *SignatureResult, keys []VerifyKey) (int, error) {
	idx, err := remote.Referrers(d, c.remoteOptions(ctx, remote.WithFilter("artifactType", string(sigArtifactType)))...)
	if err != nil {
		if isNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("listing referrers of %s: %w", d, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return 0, err
	}
	found := 0
	for _, desc := range m.Manifests {
		if desc.ArtifactType != string(sigArtifactType) {
			continue
		}
		img, err := remote.Image(d.Context().Digest(desc.Digest.String()), c.remoteOptions(ctx)...)
		if err != nil {
			return found, fmt.Errorf("reading referrer %s: %w", desc.Digest, err)
		}
		n, err := checkSignatures(img, res, keys)
		if err != nil {
			return found, fmt.Errorf("referrer %s: %w", desc.Digest, err)
		}
		found += n
	}
	return found, nil
}

// checkSignatures verifies the signature layers of sigImg that name
// res.Digest, adding the keys that verify to res.SignedBy; it returns how
// many signature layers it saw.
func checkSignatures(sigImg v1.Image, res *SignatureResult, keys []VerifyKey) (int, error) {
	m, err := sigImg.Manifest()
	if err != nil {
		return 0, err
	}
	found := 0
	for i, ld := range m.Layers {
		sigB64 := ld.Annotations[signatureAnnotation]
		if ld.MediaType != simpleSigningMediaType || sigB64 == "" {
			continue
		}
		found++
		sig, err := base64.StdEncoding.DecodeString(sigB64)
		if err != nil {
			continue
		}
		layer, err := sigImg.LayerByDigest(ld.Digest)
		if err != nil {
			return found, err
		}
		rc, err := layer.Uncompressed()
		if err != nil {
			return found, err
		}
		payload, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		_ = rc.Close()
		if err != nil {
			return found, fmt.Errorf("layer %d: %w", i, err)
		}
		var p simpleSigning
		if json.Unmarshal(payload, &p) != nil || p.Critical.Image.DockerManifestDigest != res.Digest {
			continue // a signature of other content
		}
		for _, k := range keys {
			if k.VerifySignature(bytes.NewReader(sig), bytes.NewReader(payload)) == nil && !contains(res.SignedBy, k.KeyID) {
				res.SignedBy = append(res.SignedBy, k.KeyID)
			}
		}
	}
	return found, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// VerifyResult is the verification of one module version: its module
// image and its release image.
type VerifyResult struct {
	Source  string           `json:"source"`
	Module  string           `json:"module"`
	Version string           `json:"version"`
	Bundle  *SignatureResult `json:"bundle"`
	Release *SignatureResult `json:"release,omitempty"`
}

// Sign signs a version's module image and release image with key.
func (c *Client) Sign(ctx context.Context, source, module, version string, key *SigningKey) (*VerifyResult, error) {
	mv, err := c.resolveModuleVersion(ctx, source, module, version)
	if err != nil {
		return nil, err
	}
	out := &VerifyResult{Source: mv.src.Name(), Module: module, Version: mv.version}
	if out.Bundle, err = c.signImage(ctx, mv.bundle, key); err != nil {
		return out, err
	}
	rel, err := tagRef(mv.src, module+"/release", mv.version, c.nameOptions())
	if err != nil {
		return out, err
	}
	out.Release, err = c.signImage(ctx, rel, key)
	return out, err
}

// Verify checks that a version (or the version a channel points at) is
// signed by one of keys, module image and release image both. The error
// wraps ErrNotSigned when a signature is missing or by no trusted key.
func (c *Client) Verify(ctx context.Context, source, module, versionOrChannel string, keys []VerifyKey) (*VerifyResult, error) {
	mv, err := c.resolveModuleVersion(ctx, source, module, versionOrChannel)
	if err != nil {
		return nil, err
	}
	out := &VerifyResult{Source: mv.src.Name(), Module: module, Version: mv.version}
	if out.Bundle, err = c.verifyImage(ctx, mv.bundle, keys); err != nil {
		return out, err
	}
	rel, err := tagRef(mv.src, module+"/release", mv.version, c.nameOptions())
	if err != nil {
		return out, err
	}
	out.Release, err = c.verifyImage(ctx, rel, keys)
	return out, err
}

// VerifyTag checks the image SOURCE/MODULE:TAG (a pull override's dev tag).
func (c *Client) VerifyTag(ctx context.Context, source, module, tag string, keys []VerifyKey) (*SignatureResult, error) {
	src, err := c.parseRepo(source)
	if err != nil {
		return nil, err
	}
	ref, err := tagRef(src, module, tag, c.nameOptions())
	if err != nil {
		return nil, err
	}
	return c.verifyImage(ctx, ref, keys)
}
