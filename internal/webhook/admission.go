package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/deckhand-dev/deckhand/internal/hook"
)

// maxReviewBytes bounds a review body (the API server sends at most ~3 MiB objects).
const maxReviewBytes = 8 << 20

// admissionAnswer is what a hook writes to $VALIDATING_RESPONSE_PATH.
type admissionAnswer struct {
	Allowed  bool     `json:"allowed"`
	Message  string   `json:"message,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Patch    string   `json:"patch,omitempty"`
}

// ParseAdmissionResponse reads a hook's admission response file; an empty
// or malformed one is an error (the binding's failurePolicy decides).
func ParseAdmissionResponse(data []byte, mutating bool) (*admissionv1.AdmissionResponse, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("the hook wrote no admission response to $%s", hook.EnvValidatingResponsePath)
	}
	var a admissionAnswer
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("admission response: %w", err)
	}
	resp := &admissionv1.AdmissionResponse{Allowed: a.Allowed, Warnings: a.Warnings}
	if a.Message != "" {
		code := int32(http.StatusForbidden)
		if a.Allowed {
			code = http.StatusOK
		}
		resp.Result = &metav1.Status{Message: a.Message, Code: code}
	}
	if a.Patch != "" {
		if !mutating {
			return nil, fmt.Errorf("admission response: patch is only allowed in a kubernetesMutating hook")
		}
		raw, err := base64.StdEncoding.DecodeString(a.Patch)
		if err != nil {
			return nil, fmt.Errorf("admission response: patch is not base64: %w", err)
		}
		if _, err := jsonpatch.DecodePatch(raw); err != nil {
			return nil, fmt.Errorf("admission response: patch is not a JSON patch: %w", err)
		}
		pt := admissionv1.PatchTypeJSONPatch
		resp.Patch, resp.PatchType = raw, &pt
	}
	return resp, nil
}

func (s *Server) serveAdmission(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	e := s.admission[r.URL.Path]
	s.mu.RUnlock()
	if e == nil {
		http.Error(w, "no admission hook at "+r.URL.Path, http.StatusNotFound)
		return
	}
	s.answerReview(w, r, e.h.Name, e.b.Name, func(ctx context.Context, body []byte, _ *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		return s.admit(ctx, e, body)
	})
}

// answerReview reads an AdmissionReview, answers it with answer and counts
// the request for hookName and binding.
func (s *Server) answerReview(w http.ResponseWriter, r *http.Request, hookName, binding string,
	answer func(ctx context.Context, body []byte, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReviewBytes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "not an admission.k8s.io/v1 AdmissionReview", http.StatusBadRequest)
		return
	}
	start := time.Now()
	resp := answer(r.Context(), body, review.Request)
	resp.UID = review.Request.UID
	s.metrics.seconds.WithLabelValues(hookName, binding).Observe(time.Since(start).Seconds())
	result := "denied"
	if resp.Allowed {
		result = "allowed"
	}
	s.metrics.requests.WithLabelValues(hookName, binding, result).Inc()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp})
}

// admit runs the hook for one review; a failure answers per failurePolicy.
func (s *Server) admit(ctx context.Context, e *admissionEntry, review []byte) *admissionv1.AdmissionResponse {
	// Answer before the API server gives up, so the reason reaches the client.
	timeout := time.Duration(e.b.TimeoutSeconds)*time.Second - 500*time.Millisecond
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := s.runAdmission(ctx, e, review)
	if err == nil {
		return resp
	}
	s.metrics.errors.WithLabelValues(e.h.Name, e.b.Name).Inc()
	s.opts.Logger.Error("admission hook failed", "hook", e.h.Name, "binding", e.b.Name, "failurePolicy", e.b.FailurePolicy, "error", err)
	msg := fmt.Sprintf("hook %s (binding %s) failed: %v", e.h.Name, e.b.Name, err)
	if e.b.FailurePolicy == "Ignore" {
		return &admissionv1.AdmissionResponse{Allowed: true, Warnings: []string{msg + "; admitted (failurePolicy Ignore)"}}
	}
	return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Message: msg, Code: http.StatusInternalServerError}}
}

func (s *Server) runAdmission(ctx context.Context, e *admissionEntry, review []byte) (*admissionv1.AdmissionResponse, error) {
	slots := s.slots[e.h.Name]
	if err := slots.Acquire(ctx, 1); err != nil {
		return nil, fmt.Errorf("waiting for a free run slot: %w", err)
	}
	defer slots.Release(1)
	bc := hook.AdmissionContext(e.b, e.mutating, review)
	res, err := s.opts.Runner.RunResult(ctx, e.h, e.b.Name, "webhook", []hook.BindingContext{bc})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("no answer within the webhook timeout of %ds", e.b.TimeoutSeconds)
		}
		return nil, err
	}
	return ParseAdmissionResponse(res.AdmissionResponse, e.mutating)
}

// serveValidator answers a request of a Go validator.
func (s *Server) serveValidator(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	v := s.validators[r.URL.Path]
	s.mu.RUnlock()
	if v == nil {
		http.Error(w, "no validator at "+r.URL.Path, http.StatusNotFound)
		return
	}
	s.answerReview(w, r, "deckhand", v.Name, func(ctx context.Context, _ []byte, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		return v.Func(ctx, req)
	})
}
