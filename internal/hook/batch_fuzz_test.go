package hook

import (
	"errors"
	"testing"
)

// FuzzBatchConfig checks that any `hook config` output either parses into
// a consistent BatchConfig or fails with FieldErrors naming the bundle, and
// never panics. Seeds live in testdata/fuzz/FuzzBatchConfig.
func FuzzBatchConfig(f *testing.F) {
	f.Add([]byte(batchV1), uint8(KindModule))
	f.Add([]byte(twoHooks), uint8(KindGlobal))
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		kind := Kind(k % 3)
		cfg, err := ParseBatchConfig("hooks/fuzz", data, kind)
		if err != nil {
			if cfg != nil {
				t.Fatalf("config returned with error %v", err)
			}
			for _, e := range unjoin(err) {
				var fe *FieldError
				if !errors.As(e, &fe) || fe.Hook != "hooks/fuzz" {
					t.Fatalf("error is not a FieldError naming the bundle: %#v", e)
				}
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without error")
		}
		for i, h := range cfg.Hooks {
			if h.Index != i {
				t.Fatalf("hook %d has index %d", i, h.Index)
			}
			checkBatchEntry(t, h, kind)
		}
		if cfg.Readiness != nil {
			if cfg.Readiness.Index != -1 {
				t.Fatalf("readiness index %d", cfg.Readiness.Index)
			}
			checkBatchEntry(t, *cfg.Readiness, kind)
		}
	})
}

func checkBatchEntry(t *testing.T, e BatchEntry, kind Kind) {
	t.Helper()
	if e.Config.Version != ConfigV1 {
		t.Fatalf("entry %d: version %q", e.Index, e.Config.Version)
	}
	for _, b := range e.Config.Kubernetes {
		if b.Group != batchGroup || b.Queue == "" || b.Name == "" || b.Watch.Kind == "" {
			t.Fatalf("entry %d: binding %+v", e.Index, b)
		}
	}
	for _, s := range e.Config.Schedules {
		if s.Group != batchGroup || s.Queue == "" || s.Name == "" {
			t.Fatalf("entry %d: schedule %+v", e.Index, s)
		}
	}
	allowed := kind.lifecycle()
	for b, n := range e.Config.Lifecycle {
		found := false
		for _, a := range allowed {
			found = found || a == b
		}
		if !found || n < 0 {
			t.Fatalf("entry %d: lifecycle %s=%d for kind %d", e.Index, b, n, kind)
		}
	}
	if s := e.Config.Settings; s != nil && (s.ExecutionMinInterval < 0 || s.ExecutionBurst < 0) {
		t.Fatalf("entry %d: settings %+v", e.Index, s)
	}
}

// unjoin splits an errors.Join result.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
