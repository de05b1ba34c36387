package registry_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func keyPair(t *testing.T) (*registry.SigningKey, []registry.VerifyKey) {
	t.Helper()
	priv, pub, err := registry.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	sk, err := registry.LoadSigningKey(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	vk, err := registry.LoadVerifyKeys(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sk, vk
}

// Sign then verify, through a channel; an unknown key, a missing signature
// and an image re-pushed after signing fail with ErrNotSigned; two trusted
// keys (rotation) both work.
func TestSignVerify(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		c := newClient(t)
		dir := writeModule(t)
		a, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Push(ctx(t), source, a, registry.PushOptions{Channels: []string{"stable"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Verify(ctx(t), source, "hello", "v1.0.0", nil); !errors.Is(err, registry.ErrNotSigned) {
			t.Fatalf("unsigned: %v", err)
		}
		keyA, pubA := keyPair(t)
		_, pubB := keyPair(t)
		if _, err := c.Sign(ctx(t), source, "hello", "v1.0.0", keyA); err != nil {
			t.Fatal(err)
		}
		res, err := c.Verify(ctx(t), source, "hello", "stable", slices.Concat(pubB, pubA))
		if err != nil || res.Version != "v1.0.0" || !slices.Equal(res.Bundle.SignedBy, []string{keyA.KeyID}) || res.Release == nil {
			t.Fatalf("signed, via the channel: %+v %v", res, err)
		}
		if _, err := c.Verify(ctx(t), source, "hello", "v1.0.0", pubB); !errors.Is(err, registry.ErrNotSigned) {
			t.Fatalf("another key: %v", err)
		}
		// The signature is also an OCI 1.1 referrer: with the .sig tag
		// emptied it still verifies.
		sigTag := source + "/hello:" + strings.Replace(res.Bundle.Digest, ":", "-", 1) + ".sig"
		if err := crane.Push(empty.Image, sigTag, crane.Insecure); err != nil {
			t.Fatal(err)
		}
		if r, err := c.Verify(ctx(t), source, "hello", "v1.0.0", pubA); err != nil || !slices.Equal(r.Bundle.SignedBy, []string{keyA.KeyID}) {
			t.Fatalf("through the referrers: %+v %v", r, err)
		}
		// Re-pushed after signing: the tag now names other content.
		other := filepath.Join(t.TempDir(), "hello")
		writeModuleTo(t, other, "changed")
		b, err := registry.Build(ctx(t), loadModule(t, other), registry.BuildOptions{Version: "v1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Push(ctx(t), source, b, registry.PushOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Verify(ctx(t), source, "hello", "v1.0.0", pubA); !errors.Is(err, registry.ErrNotSigned) {
			t.Fatalf("re-pushed after signing: %v", err)
		}
		// The .sig tag is where cosign looks for it.
		tags, err := crane.ListTags(source+"/hello", crane.Insecure)
		if err != nil || !slices.ContainsFunc(tags, func(s string) bool { return len(s) == len("sha256-")+64+len(".sig") }) {
			t.Fatalf("tags %v %v", tags, err)
		}
	})
}

// writeModuleTo writes the test module into dir with one extra file, so
// its image differs.
func writeModuleTo(t *testing.T, dir, extra string) {
	t.Helper()
	testenv.WriteFiles(t, dir, bundleFiles)
	testenv.WriteFiles(t, dir, buildOnlyFiles)
	testenv.WriteFiles(t, dir, map[string]string{"templates/extra.yaml": "# " + extra + "\n"})
}

// An ed25519 key signs and verifies like an ECDSA one.
func TestSignVerifyEd25519(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	key, err := registry.LoadSigningKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	vk, err := registry.LoadVerifyKeys(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	if err != nil {
		t.Fatal(err)
	}
	source := testenv.Registry(t).Addr + "/ed/modules"
	c := newClient(t)
	a, err := registry.Build(ctx(t), loadModule(t, writeModule(t)), registry.BuildOptions{Version: "v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx(t), source, a, registry.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sign(ctx(t), source, "hello", "v1.0.0", key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx(t), source, "hello", "v1.0.0", vk); err != nil {
		t.Fatal(err)
	}
}
