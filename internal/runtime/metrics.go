package runtime

import "github.com/prometheus/client_golang/prometheus"

// runtimeMetrics are the module runtime's own metrics, next to the hook
// engine's (internal/metrics); names follow addon-operator's where it has one.
type runtimeMetrics struct {
	moduleRunErrors *prometheus.CounterVec
	helmUpgrades    *prometheus.CounterVec
	convergeSeconds prometheus.Histogram
	convergeErrors  prometheus.Counter
	enabledModules  prometheus.Gauge
	configErrors    prometheus.Counter
	moduleReady     *prometheus.GaugeVec
}

func newRuntimeMetrics(reg prometheus.Registerer) (*runtimeMetrics, error) {
	m := &runtimeMetrics{
		moduleRunErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deckhand_module_run_errors_total", Help: "Failed reconciles of a module (hooks, values or Helm).",
		}, []string{"module"}),
		helmUpgrades: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "deckhand_module_helm_upgrades_total", Help: "Helm installs and upgrades of a module's release.",
		}, []string{"module"}),
		convergeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "deckhand_converge_seconds", Help: "Duration of a converge pass over all modules.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
		convergeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "deckhand_converge_errors_total", Help: "Converge passes that failed (global hooks).",
		}),
		enabledModules: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "deckhand_modules_enabled", Help: "Modules enabled by the last converge.",
		}),
		configErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "deckhand_config_values_errors_total", Help: "Config changes refused (bad YAML, settings that break the schema).",
		}),
		moduleReady: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "deckhand_module_ready", Help: "1 when the module converged with its current values.",
		}, []string{"module"}),
	}
	for _, c := range []prometheus.Collector{m.moduleRunErrors, m.helmUpgrades, m.convergeSeconds, m.convergeErrors, m.enabledModules, m.configErrors, m.moduleReady} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
