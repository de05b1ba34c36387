package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/hook"
)

// conversionTimeout bounds one conversion request (the API server waits 30s).
const conversionTimeout = 25 * time.Second

type conversionStep struct {
	h    *engine.Hook
	b    hook.ConversionBinding
	rule hook.ConversionRule
}

// crdConversions are the conversion steps hooks offer for one CRD.
type crdConversions struct {
	crd   string
	steps []conversionStep
}

// shortVersion drops the group of "group/version".
func shortVersion(v string) string {
	if i := strings.LastIndex(v, "/"); i >= 0 {
		return v[i+1:]
	}
	return v
}

// path finds the shortest chain of steps from one version to another
// (versions compared without their group); nil when there is none.
func (c *crdConversions) path(from, to string) []conversionStep {
	from, to = shortVersion(from), shortVersion(to)
	if from == to {
		return []conversionStep{}
	}
	prev := map[string]int{from: -1} // version -> index of the step that reached it
	queue := []string{from}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for i, st := range c.steps {
			next := shortVersion(st.rule.ToVersion)
			if shortVersion(st.rule.FromVersion) != v {
				continue
			}
			if _, seen := prev[next]; seen {
				continue
			}
			prev[next] = i
			if next == to {
				var out []conversionStep
				for at := to; prev[at] >= 0; at = shortVersion(c.steps[prev[at]].rule.FromVersion) {
					out = append([]conversionStep{c.steps[prev[at]]}, out...)
				}
				return out
			}
			queue = append(queue, next)
		}
	}
	return nil
}

// conversionAnswer is what a hook writes to $CONVERSION_RESPONSE_PATH.
type conversionAnswer struct {
	ConvertedObjects []json.RawMessage `json:"convertedObjects"`
	FailedMessage    string            `json:"failedMessage"`
}

func (s *Server) serveConversion(w http.ResponseWriter, r *http.Request) {
	crd := strings.TrimPrefix(r.URL.Path, "/convert/")
	s.mu.RLock()
	c := s.conversion[crd]
	s.mu.RUnlock()
	if c == nil {
		http.Error(w, "no conversion hooks for "+crd, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReviewBytes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var review apiextensionsv1.ConversionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "not an apiextensions.k8s.io/v1 ConversionReview", http.StatusBadRequest)
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), conversionTimeout)
	defer cancel()
	objs, label, err := s.convert(ctx, c, review.Request)
	resp := &apiextensionsv1.ConversionResponse{UID: review.Request.UID}
	if err != nil {
		s.metrics.errors.WithLabelValues(label.hook, label.binding).Inc()
		s.metrics.requests.WithLabelValues(label.hook, label.binding, "failed").Inc()
		s.opts.Logger.Error("conversion failed", "crd", crd, "hook", label.hook, "error", err)
		resp.Result = metav1.Status{Status: metav1.StatusFailure, Message: err.Error()}
	} else {
		s.metrics.requests.WithLabelValues(label.hook, label.binding, "converted").Inc()
		resp.ConvertedObjects = objs
		resp.Result = metav1.Status{Status: metav1.StatusSuccess}
	}
	s.metrics.seconds.WithLabelValues(label.hook, label.binding).Observe(time.Since(start).Seconds())
	out := apiextensionsv1.ConversionReview{TypeMeta: review.TypeMeta, Response: resp}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

type stepLabel struct{ hook, binding string }

// convert brings every object to the desired version through the chain of
// hooks from its own version, keeping the objects' order.
func (s *Server) convert(ctx context.Context, c *crdConversions, req *apiextensionsv1.ConversionRequest) ([]runtime.RawExtension, stepLabel, error) {
	label := stepLabel{hook: "-", binding: c.crd}
	out := make([]runtime.RawExtension, len(req.Objects))
	groups := map[string][]int{} // apiVersion -> object indexes
	var order []string
	for i, o := range req.Objects {
		var meta struct {
			APIVersion string `json:"apiVersion"`
		}
		if err := json.Unmarshal(o.Raw, &meta); err != nil {
			return nil, label, fmt.Errorf("object %d is not JSON: %w", i, err)
		}
		if _, ok := groups[meta.APIVersion]; !ok {
			order = append(order, meta.APIVersion)
		}
		groups[meta.APIVersion] = append(groups[meta.APIVersion], i)
	}
	for _, from := range order {
		idx := groups[from]
		objs := make([]json.RawMessage, len(idx))
		for j, i := range idx {
			objs[j] = req.Objects[i].Raw
		}
		steps := c.path(from, req.DesiredAPIVersion)
		if steps == nil {
			return nil, label, fmt.Errorf("no hook converts %s from %s to %s", c.crd, from, req.DesiredAPIVersion)
		}
		for _, st := range steps {
			label = stepLabel{hook: st.h.Name, binding: st.b.Name}
			var err error
			if objs, err = s.runStep(ctx, st, req, objs); err != nil {
				return nil, label, fmt.Errorf("hook %s (binding %s, %s -> %s): %w", st.h.Name, st.b.Name, st.rule.FromVersion, st.rule.ToVersion, err)
			}
		}
		for j, i := range idx {
			out[i] = runtime.RawExtension{Raw: objs[j]}
		}
	}
	return out, label, nil
}

// runStep runs one conversion hook over objs.
func (s *Server) runStep(ctx context.Context, st conversionStep, req *apiextensionsv1.ConversionRequest, objs []json.RawMessage) ([]json.RawMessage, error) {
	slots := s.slots[st.h.Name]
	if err := slots.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	defer slots.Release(1)
	to := st.rule.ToVersion
	if !strings.Contains(to, "/") {
		if i := strings.LastIndex(req.DesiredAPIVersion, "/"); i >= 0 {
			to = req.DesiredAPIVersion[:i+1] + to
		}
	}
	review, err := json.Marshal(map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
		"request": map[string]any{"uid": req.UID, "desiredAPIVersion": to, "objects": objs},
	})
	if err != nil {
		return nil, err
	}
	bc := hook.ConversionContext(st.b, st.rule.FromVersion, st.rule.ToVersion, review)
	res, err := s.opts.Runner.RunResult(ctx, st.h, st.b.Name, "webhook", []hook.BindingContext{bc})
	if err != nil {
		return nil, err
	}
	if len(res.ConversionResponse) == 0 {
		return nil, fmt.Errorf("the hook wrote no conversion response to $%s", hook.EnvConversionResponsePath)
	}
	var a conversionAnswer
	if err := json.Unmarshal(res.ConversionResponse, &a); err != nil {
		return nil, fmt.Errorf("conversion response: %w", err)
	}
	if a.FailedMessage != "" {
		return nil, fmt.Errorf("%s", a.FailedMessage)
	}
	if len(a.ConvertedObjects) != len(objs) {
		return nil, fmt.Errorf("conversion response has %d convertedObjects for %d objects", len(a.ConvertedObjects), len(objs))
	}
	return a.ConvertedObjects, nil
}
