package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/hook"
)

type noRunner struct{}

func (noRunner) RunResult(context.Context, *engine.Hook, string, string, []hook.BindingContext) (*hook.Result, error) {
	return &hook.Result{}, nil
}

// writePair issues a certificate for 127.0.0.1 from a fresh self-signed CA
// into dir and returns its serial.
func writePair(t *testing.T, dir string) string {
	t.Helper()
	sc, err := newSelfCerts([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := sc.GetCertificate(nil)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]})
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	// Written aside and renamed, as a Secret volume update is.
	for name, data := range map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name+".new"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"tls.key", "tls.crt"} {
		if err := os.Rename(filepath.Join(dir, name+".new"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := x509.ParseCertificate(leaf.Certificate[0])
	return c.SerialNumber.String()
}

func servedSerial(addr string) (string, error) {
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reading the served certificate only
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}

// A certificate written over the files is presented at the next handshake,
// without a restart (shell-operator reads its certificates once).
func TestCertificateSwappedOnDisk(t *testing.T) {
	dir := t.TempDir()
	first := writePair(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	s, err := New(Options{ListenAddress: addr, CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"), Runner: noRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitSerial := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var got string
		for time.Now().Before(deadline) {
			got, err = servedSerial(addr)
			if err == nil && got == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("served serial %s (%v), want %s", got, err, want)
	}
	waitSerial(first)
	second := writePair(t, dir)
	waitSerial(second)
}

// Generated certificates are valid for the hosts and chain to the CA
// registered for the API server.
func TestGeneratedCertificateChainsToCA(t *testing.T) {
	s, err := New(Options{ServiceName: "hooks", Namespace: "ops", Runner: noRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := s.certs.CABundle()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("no CA PEM")
	}
	leaf, _ := s.certs.GetCertificate(nil)
	c, err := x509.ParseCertificate(leaf.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"hooks.ops.svc", "127.0.0.1"} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}
