package hook

import (
	"github.com/itchyny/gojq"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/deckhand-dev/deckhand/internal/schedule"
)

// CompileJqFilter compiles a jq expression without a module loader, for
// callers that evaluate it themselves without a jq library path. Binding
// jqFilters are only checked here (see checkJqFilter); internal/kube
// compiles them, with the library path.
func CompileJqFilter(filter string) (*gojq.Code, error) {
	q, err := gojq.Parse(filter)
	if err != nil {
		return nil, err
	}
	return gojq.Compile(q)
}

// checkJqFilter checks a binding's jqFilter at load time: the syntax always;
// unknown functions too, unless the filter imports or includes jq modules,
// which only internal/kube can resolve (its monitor gets the jq library
// path).
func checkJqFilter(filter string) error {
	q, err := gojq.Parse(filter)
	if err != nil {
		return err
	}
	if len(q.Imports) > 0 {
		return nil
	}
	_, err = gojq.Compile(q)
	return err
}

var labelOperators = []string{"In", "NotIn", "Exists", "DoesNotExist"}

// labelSelector reads a metav1.LabelSelector (matchLabels, matchExpressions)
// and checks it with apimachinery.
func (w *walker) labelSelector(path string, v any) *metav1.LabelSelector {
	m, ok := w.object(path, v, "matchLabels", "matchExpressions")
	if !ok {
		return nil
	}
	if len(m) == 0 {
		w.fail(path, "must set matchLabels or matchExpressions")
		return nil
	}
	before := len(w.errs)
	sel := &metav1.LabelSelector{}
	if raw, ok := m["matchLabels"]; ok {
		if lm, ok := raw.(map[string]any); ok {
			sel.MatchLabels = make(map[string]string, len(lm))
			for k, lv := range lm {
				s, _ := w.str(join(join(path, "matchLabels"), k), lv)
				sel.MatchLabels[k] = s
			}
			if _, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: sel.MatchLabels}); err != nil {
				w.fail(join(path, "matchLabels"), "%v", err)
			}
		} else {
			w.fail(join(path, "matchLabels"), "must be an object, got %s", typeName(raw))
		}
	}
	if raw, ok := m["matchExpressions"]; ok {
		ep := join(path, "matchExpressions")
		items, _ := w.list(ep, raw, 0)
		for i, item := range items {
			ip := index(ep, i)
			im, ok := w.object(ip, item, "key", "operator", "values")
			if !ok {
				continue
			}
			req := metav1.LabelSelectorRequirement{}
			if kv, ok := im["key"]; ok {
				req.Key, _ = w.str(join(ip, "key"), kv)
			} else {
				w.fail(join(ip, "key"), "required")
			}
			if ov, ok := im["operator"]; ok {
				if s, ok := w.str(join(ip, "operator"), ov); ok {
					w.enum(join(ip, "operator"), s, labelOperators...)
					req.Operator = metav1.LabelSelectorOperator(s)
				}
			} else {
				w.fail(join(ip, "operator"), "required")
			}
			if vv, ok := im["values"]; ok {
				req.Values, _ = w.strList(join(ip, "values"), vv, 0)
			}
			if len(w.errs) == before {
				if _, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{
					MatchExpressions: []metav1.LabelSelectorRequirement{req},
				}); err != nil {
					w.fail(ip, "%v", err)
				}
			}
			sel.MatchExpressions = append(sel.MatchExpressions, req)
		}
	}
	if len(w.errs) != before {
		return nil
	}
	if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
		w.fail(path, "%v", err)
		return nil
	}
	return sel
}

// nameSelector reads {matchNames: [...]}.
func (w *walker) nameSelector(path string, v any) []string {
	m, ok := w.object(path, v, "matchNames")
	if !ok {
		return nil
	}
	raw, ok := m["matchNames"]
	if !ok {
		w.fail(join(path, "matchNames"), "required")
		return nil
	}
	names, _ := w.strList(join(path, "matchNames"), raw, 0)
	return names
}

func (w *walker) apiVersion(path string, v any) string {
	s, ok := w.str(path, v)
	if !ok {
		return ""
	}
	if _, err := schema.ParseGroupVersion(s); err != nil {
		w.fail(path, "%v", err)
	}
	return s
}

func (w *walker) jqFilter(path string, v any) string {
	s, ok := w.str(path, v)
	if !ok {
		return ""
	}
	if err := checkJqFilter(s); err != nil {
		w.fail(path, "jq: %v", err)
	}
	return s
}

func (w *walker) crontab(path string, v any) string {
	s, ok := w.str(path, v)
	if !ok {
		return ""
	}
	if _, err := schedule.Parse(s); err != nil {
		w.fail(path, "invalid %v", err)
	}
	return s
}
