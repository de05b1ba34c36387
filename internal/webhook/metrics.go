package webhook

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metricsSet struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metricsSet, error) {
	m := &metricsSet{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deckhand_webhook_requests_total", Help: "Admission and conversion requests, by hook, binding and result (allowed, denied, converted, failed).",
		}, []string{"hook", "binding", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deckhand_webhook_errors_total", Help: "Webhook requests whose hook failed, timed out or wrote a malformed response, by hook and binding.",
		}, []string{"hook", "binding"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "deckhand_webhook_request_duration_seconds", Help: "Time from a webhook request to its response, by hook and binding.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"hook", "binding"}),
	}
	if reg == nil {
		return m, nil
	}
	// A server made again (a new leadership term) counts on in the
	// collectors registered the first time.
	register := func(c prometheus.Collector) (prometheus.Collector, error) {
		err := reg.Register(c)
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector, nil
		}
		return c, err
	}
	var err error
	var c prometheus.Collector
	if c, err = register(m.requests); err != nil {
		return nil, err
	}
	m.requests = c.(*prometheus.CounterVec)
	if c, err = register(m.errors); err != nil {
		return nil, err
	}
	m.errors = c.(*prometheus.CounterVec)
	if c, err = register(m.seconds); err != nil {
		return nil, err
	}
	m.seconds = c.(*prometheus.HistogramVec)
	return m, nil
}
