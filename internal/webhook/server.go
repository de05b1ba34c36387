package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/hook"
)

// Defaults of shell-operator that deckhand keeps.
const (
	DefaultConfigurationName = "shell-operator-hooks"
	DefaultListenPort        = "9680"
	// DefaultConcurrency is how many requests of one hook run at once.
	DefaultConcurrency = 4
)

// Runner runs a hook once with the given contexts and returns its files.
type Runner interface {
	RunResult(ctx context.Context, h *engine.Hook, binding, queueName string, contexts []hook.BindingContext) (*hook.Result, error)
}

// Options configure a Server.
type Options struct {
	// ListenAddress is host:port of the HTTPS server.
	ListenAddress string
	// CertFile and KeyFile serve TLS from files (reloaded on change);
	// CAFile is the bundle registered for the API server. Empty: a CA and
	// certificate are generated and the CA registered.
	CertFile, KeyFile, CAFile string
	// RequireCertFiles refuses to start when CertFile is missing instead of
	// generating a certificate.
	RequireCertFiles bool
	// ServiceName and Namespace make the clientConfig a Service reference
	// (port ServicePort, 443 by default).
	ServiceName, Namespace string
	ServicePort            int32
	// URL, when set, is the clientConfig base URL instead of a Service
	// (a webhook reached directly, as in tests or outside the cluster).
	URL string
	// ConfigurationName names the Validating/MutatingWebhookConfiguration.
	ConfigurationName string
	// Hosts are the names the generated certificate is valid for (default:
	// the Service's DNS names, localhost and 127.0.0.1).
	Hosts []string

	Runner  Runner
	Kube    kubernetes.Interface
	APIExt  apiextensionsclient.Interface
	Logger  *slog.Logger
	Metrics prometheus.Registerer
	// Concurrency bounds the runs of one hook at once (DefaultConcurrency).
	Concurrency int
	// Serve selects the bindings this server takes: ServeAll, or only
	// admission or conversion (shell-operator runs one server of each, on
	// their own ports, certificates and Services).
	Serve Serve
}

// Serve selects which webhook bindings a Server takes.
type Serve int

// Serve values.
const (
	ServeAll Serve = iota
	ServeAdmission
	ServeConversion
)

// Server is the webhook server of a set of hooks.
type Server struct {
	opts    Options
	certs   certSource
	metrics *metricsSet

	mu         sync.RWMutex
	admission  map[string]*admissionEntry // by path
	conversion map[string]*crdConversions // by CRD name
	slots      map[string]*semaphore.Weighted
	validators map[string]*Validator // by path
	changed    chan struct{}         // bindings changed: register again
}

// Validator is a validating webhook answered in Go (deckhand's own, such as
// the ModuleConfig check), served beside the hooks' bindings.
type Validator struct {
	// Name is the webhook name (a DNS name with three segments).
	Name          string
	Rules         []admissionregistrationv1.RuleWithOperations
	FailurePolicy admissionregistrationv1.FailurePolicyType
	// Func answers one request; Allowed false with a Result message rejects.
	Func func(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse
}

type admissionEntry struct {
	h        *engine.Hook
	b        hook.AdmissionBinding
	mutating bool
	path     string
}

// New prepares a server; nothing listens until Run.
func New(opts Options) (*Server, error) {
	if opts.Runner == nil {
		return nil, errors.New("webhook: a Runner is required")
	}
	if opts.ConfigurationName == "" {
		opts.ConfigurationName = DefaultConfigurationName
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.ServicePort == 0 {
		opts.ServicePort = 443
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, admission: map[string]*admissionEntry{}, conversion: map[string]*crdConversions{},
		slots: map[string]*semaphore.Weighted{}, validators: map[string]*Validator{}, changed: make(chan struct{}, 1)}
	var err error
	if opts.CertFile != "" && !exists(opts.CertFile) && !opts.RequireCertFiles {
		opts.Logger.Info("no webhook certificate on disk: generating a CA and a certificate", "certFile", opts.CertFile)
		opts.CertFile, opts.KeyFile, opts.CAFile = "", "", ""
		s.opts = opts
	}
	if opts.CertFile != "" || opts.KeyFile != "" {
		s.certs, err = newFileCerts(opts.CertFile, opts.KeyFile, opts.CAFile)
	} else {
		s.certs, err = newSelfCerts(s.hosts(), 0)
	}
	if err != nil {
		return nil, err
	}
	if s.metrics, err = newMetrics(opts.Metrics); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) hosts() []string {
	if len(s.opts.Hosts) > 0 {
		return s.opts.Hosts
	}
	var out []string
	if s.opts.ServiceName != "" {
		svc := s.opts.ServiceName + "." + s.opts.Namespace
		out = append(out, svc+".svc", svc, s.opts.ServiceName, svc+".svc.cluster.local")
	}
	if s.opts.URL != "" {
		if u, err := url.Parse(s.opts.URL); err == nil && u.Hostname() != "" {
			out = append(out, u.Hostname())
		}
	}
	return append(out, "localhost", "127.0.0.1")
}

// Add registers the webhook bindings of hooks (others are ignored); a
// running server registers them with the API server at once.
func (s *Server) Add(hooks ...*engine.Hook) {
	defer s.notify()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hooks {
		cfg := h.Config
		if !cfg.HasWebhooks() {
			continue
		}
		if s.slots[h.Name] == nil {
			s.slots[h.Name] = semaphore.NewWeighted(int64(s.opts.Concurrency))
		}
		admission, conversion := s.opts.Serve != ServeConversion, s.opts.Serve != ServeAdmission
		if !admission {
			cfg.Validating, cfg.Mutating = nil, nil
		}
		if !conversion {
			cfg.Conversion = nil
		}
		for _, b := range cfg.Validating {
			p := "/validate/" + pathName(h.Name) + "/" + b.Name
			s.admission[p] = &admissionEntry{h: h, b: b, path: p}
		}
		for _, b := range cfg.Mutating {
			p := "/mutate/" + pathName(h.Name) + "/" + b.Name
			s.admission[p] = &admissionEntry{h: h, b: b, mutating: true, path: p}
		}
		for _, b := range cfg.Conversion {
			c := s.conversion[b.CRDName]
			if c == nil {
				c = &crdConversions{crd: b.CRDName}
				s.conversion[b.CRDName] = c
			}
			for _, r := range b.Conversions {
				c.steps = append(c.steps, conversionStep{h: h, b: b, rule: r})
			}
		}
	}
}

// Remove takes the bindings of the named hooks out (a module disabled).
func (s *Server) Remove(names ...string) {
	if len(names) == 0 {
		return
	}
	defer s.notify()
	s.mu.Lock()
	defer s.mu.Unlock()
	gone := map[string]bool{}
	for _, n := range names {
		gone[n] = true
		delete(s.slots, n)
	}
	for p, e := range s.admission {
		if gone[e.h.Name] {
			delete(s.admission, p)
		}
	}
	for crd, c := range s.conversion {
		kept := c.steps[:0]
		for _, st := range c.steps {
			if !gone[st.h.Name] {
				kept = append(kept, st)
			}
		}
		c.steps = kept
		if len(kept) == 0 {
			delete(s.conversion, crd)
		}
	}
}

// AddValidator serves a validating webhook answered in Go.
func (s *Server) AddValidator(v Validator) {
	defer s.notify()
	if v.FailurePolicy == "" {
		v.FailurePolicy = admissionregistrationv1.Fail
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validators["/deckhand/"+v.Name] = &v
}

func (s *Server) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// pathName puts a hook name ("module/hooks/a.sh") in one URL path segment
// without escapes, which proxies and clients may normalise away.
func pathName(hookName string) string { return strings.ReplaceAll(hookName, "/", ":") }

// HasWebhooks reports whether any hook added has a webhook binding.
func (s *Server) HasWebhooks() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.admission)+len(s.conversion)+len(s.validators) > 0
}

// Run listens, registers the webhook configurations and CRD conversions,
// and serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("webhook server: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/validate/", s.serveAdmission)
	mux.HandleFunc("/mutate/", s.serveAdmission)
	mux.HandleFunc("/convert/", s.serveConversion)
	mux.HandleFunc("/deckhand/", s.serveValidator)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certs.GetCertificate},
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	certErr := make(chan error, 1)
	wg.Go(func() { certErr <- s.certs.run(ctx) })
	serveErr := make(chan error, 1)
	wg.Go(func() { serveErr <- srv.ServeTLS(ln, "", "") })
	s.opts.Logger.Info("webhook server listening", "address", ln.Addr().String())
	if err := s.register(ctx); err != nil {
		_ = srv.Close()
		cancel()
		wg.Wait()
		return err
	}
	// A notification still pending may be of bindings added while the
	// first registration ran: registering once more is harmless.
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-serveErr:
			break loop
		case err = <-certErr:
			break loop
		case <-s.changed:
			if rerr := s.register(ctx); rerr != nil && ctx.Err() == nil {
				s.opts.Logger.Error("registering webhooks; retrying", "error", rerr)
				time.AfterFunc(5*time.Second, s.notify)
			}
		}
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	cancel()
	wg.Wait()
	s.opts.Logger.Info("webhook server stopped")
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// clientURL is the URL of path when the webhook is reached by URL.
func (s *Server) clientURL(path string) string {
	return strings.TrimSuffix(s.opts.URL, "/") + path
}
