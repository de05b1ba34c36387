package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func mustParse(t *testing.T, s string) []Operation {
	t.Helper()
	ops, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func gather(t *testing.T, s *Store, names ...string) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s)
	var b strings.Builder
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		for _, n := range names {
			if mf.GetName() == n {
				b.WriteString(mf.String())
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}

func collectText(t *testing.T, s *Store, expected string, names ...string) {
	t.Helper()
	if err := testutil.CollectAndCompare(s, strings.NewReader(expected), names...); err != nil {
		t.Fatal(err)
	}
}

func TestStoreDefaultGroupReplacesHookSeries(t *testing.T) {
	s := NewStore()
	if err := s.Apply("a.sh", mustParse(t, `
{"name":"runs_total","action":"add","value":1}
{"name":"runs_total","action":"add","value":2}
{"name":"items","set":5,"labels":{"ns":"x"}}
{"name":"items","set":6,"labels":{"ns":"y"}}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply("b.sh", mustParse(t, `{"name":"items","set":1,"labels":{"ns":"x"}}`), nil); err != nil {
		t.Fatal(err)
	}
	collectText(t, s, `
# HELP items Metric reported by a hook through $METRICS_PATH.
# TYPE items gauge
items{hook="a.sh",ns="x"} 5
items{hook="a.sh",ns="y"} 6
items{hook="b.sh",ns="x"} 1
# HELP runs_total Metric reported by a hook through $METRICS_PATH.
# TYPE runs_total counter
runs_total{hook="a.sh"} 3
`, "items", "runs_total")

	// The next run of a.sh replaces all of a.sh's ungrouped series; b.sh keeps its own.
	if err := s.Apply("a.sh", mustParse(t, `{"name":"runs_total","action":"add","value":1}`), nil); err != nil {
		t.Fatal(err)
	}
	collectText(t, s, `
# HELP items Metric reported by a hook through $METRICS_PATH.
# TYPE items gauge
items{hook="b.sh",ns="x"} 1
# HELP runs_total Metric reported by a hook through $METRICS_PATH.
# TYPE runs_total counter
runs_total{hook="a.sh"} 1
`, "items", "runs_total")
}

func TestStoreAccumulatingUngrouped(t *testing.T) {
	s := NewStore(WithAccumulatingUngrouped())
	for range 3 {
		if err := s.Apply("a.sh", mustParse(t, `{"name":"runs_total","add":1}`), map[string]string{"module": "m1"}); err != nil {
			t.Fatal(err)
		}
	}
	collectText(t, s, `
# HELP runs_total Metric reported by a hook through $METRICS_PATH.
# TYPE runs_total counter
runs_total{hook="a.sh",module="m1"} 3
`, "runs_total")
}

func TestStoreGroupsAndExpire(t *testing.T) {
	s := NewStore()
	if err := s.Apply("a.sh", mustParse(t, `
{"name":"pods","set":3,"group":"pods","labels":{"ns":"a"}}
{"name":"pods","set":4,"group":"pods","labels":{"ns":"b"}}
{"name":"nodes","set":2,"group":"nodes"}`), nil); err != nil {
		t.Fatal(err)
	}
	// A new batch for group "pods" drops ns=b, keeps group "nodes".
	if err := s.Apply("a.sh", mustParse(t, `{"name":"pods","set":7,"group":"pods","labels":{"ns":"a"}}`), nil); err != nil {
		t.Fatal(err)
	}
	collectText(t, s, `
# HELP nodes Metric reported by a hook through $METRICS_PATH.
# TYPE nodes gauge
nodes{hook="a.sh"} 2
# HELP pods Metric reported by a hook through $METRICS_PATH.
# TYPE pods gauge
pods{hook="a.sh",ns="a"} 7
`, "nodes", "pods")
	if err := s.Apply("a.sh", mustParse(t, `{"action":"expire","group":"nodes"}`), nil); err != nil {
		t.Fatal(err)
	}
	if n := s.Series(); n != 1 {
		t.Fatalf("series after expire = %d, want 1", n)
	}
}

func TestStoreHistogram(t *testing.T) {
	s := NewStore()
	if err := s.Apply("h.sh", mustParse(t, `
{"name":"job_seconds","action":"observe","value":0.05,"buckets":[0.1,1,10]}
{"name":"job_seconds","action":"observe","value":0.5,"buckets":[0.1,1,10]}
{"name":"job_seconds","action":"observe","value":50,"buckets":[0.1,1,10]}`), nil); err != nil {
		t.Fatal(err)
	}
	collectText(t, s, `
# HELP job_seconds Metric reported by a hook through $METRICS_PATH.
# TYPE job_seconds histogram
job_seconds_bucket{hook="h.sh",le="0.1"} 1
job_seconds_bucket{hook="h.sh",le="1"} 2
job_seconds_bucket{hook="h.sh",le="10"} 2
job_seconds_bucket{hook="h.sh",le="+Inf"} 3
job_seconds_sum{hook="h.sh"} 50.55
job_seconds_count{hook="h.sh"} 3
`, "job_seconds")
}

func TestStoreTypeConflictAppliesNothing(t *testing.T) {
	s := NewStore()
	if err := s.Apply("a.sh", mustParse(t, `{"name":"shared","set":1,"group":"keep"}`), nil); err != nil {
		t.Fatal(err)
	}
	bad := mustParse(t, `{"name":"fresh","set":9}
{"name":"shared","add":1}`)
	if err := s.Check("b.sh", bad, nil); err == nil {
		t.Fatal("Check accepted a type conflict")
	}
	err := s.Apply("b.sh", bad, nil)
	if err == nil || !strings.Contains(err.Error(), `hook "b.sh": line 2: metric "shared" is a gauge, action "add" needs a counter`) {
		t.Fatalf("error = %v", err)
	}
	if n := s.Series(); n != 1 {
		t.Fatalf("series after failed apply = %d, want 1 (nothing applied)", n)
	}
	if out := gather(t, s, "fresh"); out != "" {
		t.Fatalf("fresh was applied: %s", out)
	}
}
