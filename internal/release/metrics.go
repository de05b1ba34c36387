package release

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the operator's Prometheus metrics for sources and releases.
type Metrics struct {
	scans         *prometheus.CounterVec
	scanSeconds   *prometheus.HistogramVec
	sourceModules *prometheus.GaugeVec
	transitions   *prometheus.CounterVec
	deploySeconds *prometheus.HistogramVec
	deployed      *prometheus.GaugeVec
}

// NewMetrics registers the metrics with reg (nil: not registered anywhere).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deckhand_module_source_scans_total", Help: "ModuleSource scans, by source and result (ok, error).",
		}, []string{"source", "result"}),
		scanSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "deckhand_module_source_scan_duration_seconds", Help: "Time one ModuleSource scan took.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}, []string{"source"}),
		sourceModules: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "deckhand_module_source_modules", Help: "Modules a ModuleSource offers, as of its last scan.",
		}, []string{"source"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deckhand_module_release_transitions_total", Help: "ModuleRelease phase changes, by module and the phase entered.",
		}, []string{"module", "phase"}),
		deploySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "deckhand_module_release_deploy_duration_seconds", Help: "Time from starting a release's download to the module converged (or the deploy failed), by result.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 14),
		}, []string{"result"}),
		deployed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "deckhand_module_release_deployed", Help: "1 for the version of each module that runs (a release or a pull override).",
		}, []string{"module", "version"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.scans, m.scanSeconds, m.sourceModules, m.transitions, m.deploySeconds, m.deployed} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *Metrics) scan(source, result string, d time.Duration) {
	m.scans.WithLabelValues(source, result).Inc()
	m.scanSeconds.WithLabelValues(source).Observe(d.Seconds())
}

func (m *Metrics) transition(module, phase string) {
	m.transitions.WithLabelValues(module, phase).Inc()
}

func (m *Metrics) deployedVersion(module, version string) {
	m.deployed.DeletePartialMatch(prometheus.Labels{"module": module})
	m.deployed.WithLabelValues(module, version).Set(1)
}
