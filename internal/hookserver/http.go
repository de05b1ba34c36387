package hookserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/deckhand-dev/deckhand/internal/queue"
)

// SnapshotObject is one object of a binding's snapshot in debug output.
type SnapshotObject struct {
	Object       json.RawMessage `json:"object,omitempty"`
	FilterResult json.RawMessage `json:"filterResult,omitempty"`
}

// HookSnapshots is the debug view of one hook: its snapshots by binding name.
type HookSnapshots struct {
	Hook      string                      `json:"hook"`
	Snapshots map[string][]SnapshotObject `json:"snapshots"`
}

// QueuesReply is the body of GET /debug/queues.
type QueuesReply struct {
	Role   string         `json:"role"`
	Queues []queue.Status `json:"queues"`
}

// Handler returns the HTTP handler with /metrics, /metrics/hooks, /healthz
// and /readyz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{s.registry, s.hookRegistry}, opts))
	mux.Handle("GET /metrics/hooks", promhttp.HandlerFor(s.hookRegistry, opts))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.serveReadyz)
	return mux
}

// DebugHandler returns the HTTP handler with /debug/queues and
// /debug/snapshots/{hook}; it is served on its own (loopback) address
// because snapshots carry full objects.
func (s *Server) DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/queues", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, QueuesReply{Role: s.role(), Queues: s.queueStatus()})
	})
	mux.HandleFunc("GET /debug/snapshots/{hook...}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("hook")
		snaps, ok := s.snapshots(name)
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("hook %q not found (known: %s)", name, strings.Join(s.hookNames(), ", "))})
			return
		}
		writeJSON(w, http.StatusOK, snaps)
	})
	return mux
}

// lazyListener binds an address once, on first use.
type lazyListener struct {
	once sync.Once
	ln   net.Listener
	err  error
}

func (l *lazyListener) listen(address string) (net.Addr, error) {
	l.once.Do(func() {
		if address == "" {
			l.err = errors.New("no listen address")
			return
		}
		l.ln, l.err = net.Listen("tcp", address)
		if l.err != nil {
			l.err = fmt.Errorf("listening on %s: %w", address, l.err)
		}
	})
	if l.err != nil {
		return nil, l.err
	}
	return l.ln.Addr(), nil
}

// serveHTTP serves h on ln until ctx is done; wg tracks its goroutines.
// what names the endpoints in the start and stop log lines, so an operator
// sees where to scrape or curl without reading the flags.
func serveHTTP(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger, what string, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving "+what, "address", ln.Addr().String())
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "address", ln.Addr().String(), "error", err)
		}
	}()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		shutdownCtx, c := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer c()
		_ = srv.Shutdown(shutdownCtx)
		log.Info("stopped serving "+what, "address", ln.Addr().String())
	}()
}

func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	problems := s.readinessProblems()
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, p := range problems {
			fmt.Fprintln(w, p)
		}
		return
	}
	fmt.Fprintln(w, "ok")
}

// readinessProblems lists why the server is not ready: broken hook configs
// (each naming the hook and the field) and a start that has not finished.
func (s *Server) readinessProblems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if !s.loaded {
		return []string{"loading hooks"}
	}
	names := make([]string, 0, len(s.configErrors))
	for name := range s.configErrors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, fmt.Sprintf("hook %s: broken config: %v", name, s.configErrors[name]))
	}
	if s.loadErr != nil {
		out = append(out, fmt.Sprintf("loading hooks: %v", s.loadErr))
	}
	if s.state == stateStarting {
		out = append(out, "starting: onStartup hooks and synchronization have not finished")
	}
	if s.state == stateFailed {
		out = append(out, fmt.Sprintf("stopped: %v", s.runErr))
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
