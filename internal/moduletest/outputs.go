package moduletest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	yaml "go.yaml.in/yaml/v3"

	"github.com/deckhand-dev/deckhand/internal/helm"
	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/metrics"
	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// operation is a parsed KUBERNETES_PATCH_PATH operation in a stable form for
// comparison: what kube.ParseOperations understood, not how the hook spelled
// it (string or inline patches, "/status" or "status" compare equal).
type operation struct {
	Operation           string         `json:"operation"`
	APIVersion          string         `json:"apiVersion,omitempty"`
	Kind                string         `json:"kind,omitempty"`
	Namespace           string         `json:"namespace,omitempty"`
	Name                string         `json:"name,omitempty"`
	Subresource         string         `json:"subresource,omitempty"`
	Object              map[string]any `json:"object,omitempty"`
	JQFilter            string         `json:"jqFilter,omitempty"`
	MergePatch          any            `json:"mergePatch,omitempty"`
	JSONPatch           any            `json:"jsonPatch,omitempty"`
	IgnoreMissingObject bool           `json:"ignoreMissingObject,omitempty"`
	IgnoreHookError     bool           `json:"ignoreHookError,omitempty"`
}

// operations parses a KUBERNETES_PATCH_PATH file with the runtime's parser.
func operations(data []byte) ([]any, error) {
	ops, err := kube.ParseOperations(data)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, o := range ops {
		n := operation{
			Operation: string(o.Type), Subresource: o.Subresource, JQFilter: o.JQFilter,
			IgnoreMissingObject: o.IgnoreMissingObject, IgnoreHookError: o.IgnoreHookError,
		}
		if o.Object != nil {
			n.Object = o.Object.Object
		} else {
			n.APIVersion, n.Kind, n.Namespace, n.Name = o.APIVersion, o.Kind, o.Namespace, o.Name
		}
		if len(o.MergePatch) > 0 {
			if err := json.Unmarshal(o.MergePatch, &n.MergePatch); err != nil {
				return nil, fmt.Errorf("%s: mergePatch: %w", o, err)
			}
		}
		if len(o.JSONPatch) > 0 {
			if err := json.Unmarshal(o.JSONPatch, &n.JSONPatch); err != nil {
				return nil, fmt.Errorf("%s: jsonPatch: %w", o, err)
			}
		}
		v, err := plain(n)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// metricOps parses a METRICS_PATH file with the runtime's parser and checks
// the batch as the hook metrics store would.
func metricOps(data []byte) ([]any, error) {
	ops, err := metrics.Parse(data)
	if err != nil {
		return nil, err
	}
	if err := metrics.NewStore().Check("moduletest", ops, nil); err != nil {
		return nil, err
	}
	var out []any
	for _, o := range ops {
		v, err := plain(o)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// validateValues checks module values after a patch against the values
// schema, as the runtime does after every hook run.
func validateValues(m *module.Module, key string, mod map[string]any) error {
	if m.Schemas == nil {
		return nil
	}
	if err := values.Validate(m.Schemas.Values, key, mod); err != nil {
		return fmt.Errorf("schema %s: %w", m.Schemas.ValuesFile, err)
	}
	return nil
}

// render renders the module's chart with the values the hook left, as the
// runtime's next Helm run would, and returns the objects in template order.
func render(ctx context.Context, m *module.Module, kubeVersion string, global map[string]any, key string, mod map[string]any) ([]any, error) {
	res := &values.Result{ModuleKey: key, Module: mod, Global: global}
	helmValues, err := res.ForHelm(m.Schemas)
	if err != nil {
		return nil, fmt.Errorf("manifests: %w", err)
	}
	renderer, err := helm.NewRenderer(kubeVersion)
	if err != nil {
		return nil, fmt.Errorf("manifests: %w", err)
	}
	chart, err := helm.LoadChart(m.Dir, m.Name)
	if err != nil {
		return nil, fmt.Errorf("manifests: %w", err)
	}
	out, err := renderer.Render(ctx, helm.Request{Chart: chart, ReleaseName: m.Name, Namespace: m.Namespace(), Values: helmValues})
	if err != nil {
		return nil, fmt.Errorf("manifests: %w", err)
	}
	objs := []any{}
	for _, mf := range out.Manifests {
		dec := yaml.NewDecoder(bytes.NewReader([]byte(mf.Content)))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("manifests: %s: %w", mf.Template, err)
			}
			if len(doc) == 0 {
				continue
			}
			v, err := plain(doc)
			if err != nil {
				return nil, err
			}
			objs = append(objs, v)
		}
	}
	return objs, nil
}

// plain converts v to plain JSON types (maps, slices, float64, string,
// bool, nil), the form both sides of a comparison take.
func plain(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// outputLog collects a hook run's stdout and stderr lines.
type outputLog struct {
	mu  sync.Mutex
	buf []string
}

func (o *outputLog) logger() *slog.Logger { return slog.New(outputHandler{o: o}) }

func (o *outputLog) lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.buf...)
}

type outputHandler struct {
	o     *outputLog
	attrs []slog.Attr
}

func (h outputHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h outputHandler) Handle(_ context.Context, r slog.Record) error {
	stream := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "output" {
			stream = a.Value.String()
		}
		return true
	})
	if stream == "" {
		return nil // the executor's own records, not hook output
	}
	h.o.mu.Lock()
	h.o.buf = append(h.o.buf, stream+": "+r.Message)
	h.o.mu.Unlock()
	return nil
}

func (h outputHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return outputHandler{o: h.o, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

func (h outputHandler) WithGroup(string) slog.Handler { return h }
