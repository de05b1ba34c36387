package webhook

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
)

// certSource serves the TLS certificate and the CA bundle the API server
// must trust.
type certSource interface {
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// CABundle is the PEM the webhook configurations carry.
	CABundle() ([]byte, error)
	run(ctx context.Context) error
}

// fileCerts reads the certificate and key from files and picks up a new
// pair written over them (cert-manager renewing a Secret) at the next
// handshake, without a restart.
type fileCerts struct {
	w      *certwatcher.CertWatcher
	caFile string
}

func newFileCerts(certFile, keyFile, caFile string) (*fileCerts, error) {
	w, err := certwatcher.New(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("webhook certificate %s / key %s: %w", certFile, keyFile, err)
	}
	return &fileCerts{w: w.WithWatchInterval(2 * time.Second), caFile: caFile}, nil
}

func (f *fileCerts) GetCertificate(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.w.GetCertificate(h)
}

func (f *fileCerts) CABundle() ([]byte, error) {
	if f.caFile == "" {
		return nil, nil // the API server trusts the serving certificate's issuer already
	}
	data, err := os.ReadFile(f.caFile)
	if err != nil {
		return nil, fmt.Errorf("webhook CA file: %w", err)
	}
	return data, nil
}

func (f *fileCerts) run(ctx context.Context) error { return f.w.Start(ctx) }

// selfCerts is a CA made at start and a serving certificate it signs,
// renewed when two thirds of its life have passed. The CA lives ten years,
// so the bundle registered once stays valid across renewals.
type selfCerts struct {
	hosts   []string
	leafTTL time.Duration

	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
	caPEM []byte

	mu      sync.RWMutex
	leaf    *tls.Certificate
	expires time.Time
	issued  time.Time
}

func newSelfCerts(hosts []string, leafTTL time.Duration) (*selfCerts, error) {
	if leafTTL <= 0 {
		leafTTL = 365 * 24 * time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "deckhand webhook CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	s := &selfCerts{hosts: hosts, leafTTL: leafTTL, ca: ca, caKey: key, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	return s, s.renew()
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// renew issues a new serving certificate.
func (s *selfCerts) renew() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: s.hosts[0]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(s.leafTTL),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range s.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		return err
	}
	cert := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	s.mu.Lock()
	s.leaf, s.issued, s.expires = cert, now, tmpl.NotAfter
	s.mu.Unlock()
	return nil
}

func (s *selfCerts) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.leaf, nil
}

func (s *selfCerts) CABundle() ([]byte, error) { return s.caPEM, nil }

// run renews the serving certificate once two thirds of its life passed.
func (s *selfCerts) run(ctx context.Context) error {
	for {
		s.mu.RLock()
		due := s.issued.Add(s.expires.Sub(s.issued) * 2 / 3)
		s.mu.RUnlock()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(due)):
			if err := s.renew(); err != nil {
				return fmt.Errorf("renewing the webhook certificate: %w", err)
			}
		}
	}
}
