package hookserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

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

// Handler returns the HTTP handler with /metrics, /metrics/hooks, /healthz,
// /readyz, /debug/queues and /debug/snapshots/{hook}.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{s.registry, s.hookRegistry}, opts))
	mux.Handle("GET /metrics/hooks", promhttp.HandlerFor(s.hookRegistry, opts))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.serveReadyz)
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
