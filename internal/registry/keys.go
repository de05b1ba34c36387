package registry

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PEM block types of cosign's encrypted private keys (sigstore's name, and
// cosign's older one).
const (
	pemEncryptedSigstore = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemEncryptedCosign   = "ENCRYPTED COSIGN PRIVATE KEY"
)

// SigningKey signs artifacts; KeyID names its public key.
type SigningKey struct {
	signature.SignerVerifier
	KeyID string
}

// VerifyKey checks signatures; KeyID names it in results.
type VerifyKey struct {
	signature.Verifier
	KeyID string
}

// LoadSigningKey reads a private key: cosign's encrypted format (decrypted
// with password, as `cosign generate-key-pair` writes it), or a PEM
// PKCS#8, EC or PKCS#1 key. ECDSA P-256 and ed25519 keys are supported.
func LoadSigningKey(data, password []byte) (*SigningKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found: want a cosign key or a PEM private key")
	}
	var priv crypto.PrivateKey
	var err error
	switch block.Type {
	case pemEncryptedSigstore, pemEncryptedCosign:
		der, derr := encrypted.Decrypt(block.Bytes, password)
		if derr != nil {
			return nil, fmt.Errorf("decrypting the cosign key (wrong password? set COSIGN_PASSWORD): %w", derr)
		}
		priv, err = x509.ParsePKCS8PrivateKey(der)
	default:
		priv, err = cryptoutils.UnmarshalPEMToPrivateKey(data, cryptoutils.SkipPassword)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the private key: %w", err)
	}
	switch k := priv.(type) {
	case *ecdsa.PrivateKey, ed25519.PrivateKey:
		sv, err := signature.LoadSignerVerifier(k, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		pub, err := sv.PublicKey()
		if err != nil {
			return nil, err
		}
		return &SigningKey{SignerVerifier: sv, KeyID: keyID(pub)}, nil
	default:
		return nil, fmt.Errorf("a %T key: want ECDSA P-256 or ed25519", priv)
	}
}

// LoadVerifyKeys reads one or more PEM public keys (several keys accepted
// at once, for rotation).
func LoadVerifyKeys(data []byte) ([]VerifyKey, error) {
	var out []VerifyKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(pem.EncodeToMemory(block))
		if err != nil {
			return nil, fmt.Errorf("public key %d: %w", len(out)+1, err)
		}
		v, err := signature.LoadVerifier(pub, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("public key %d: %w", len(out)+1, err)
		}
		out = append(out, VerifyKey{Verifier: v, KeyID: keyID(pub)})
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM public key found")
	}
	return out, nil
}

// GenerateSigningKey makes an ECDSA P-256 key pair as PEM (private key
// unencrypted PKCS#8, public key PKIX).
func GenerateSigningKey() (privPEM, pubPEM []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	pubPEM, err = cryptoutils.MarshalPublicKeyToPEM(k.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), pubPEM, nil
}

// keyID is the first 16 hex digits of the SHA-256 of the public key's DER.
func keyID(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8])
}
