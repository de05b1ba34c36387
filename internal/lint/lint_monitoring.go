package lint

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/deckhand-dev/deckhand/internal/module"
)

const monitoringTemplate = "templates/monitoring.yaml"

// lintMonitoring runs the file part of templates/grafana-dashboards and
// templates/prometheus-rules: a module with a monitoring/ directory renders
// it from templates/monitoring.yaml with lib-helm's helpers, and its
// dashboards follow DKP's Grafana conventions.
func lintMonitoring(c *collector, m *module.Module) {
	if !dirExists(filepath.Join(m.Dir, "monitoring")) {
		return
	}
	content, err := os.ReadFile(filepath.Join(m.Dir, monitoringTemplate))
	if err != nil {
		msg := "a module with a monitoring/ directory needs " + monitoringTemplate + " to render it"
		if !errors.Is(err, fs.ErrNotExist) {
			msg = "reading " + monitoringTemplate + ": " + err.Error()
		}
		c.add(LinterTemplates, "grafana-dashboards", monitoringTemplate, 0, "%s", msg)
		c.add(LinterTemplates, "prometheus-rules", monitoringTemplate, 0, "%s", msg)
		return
	}
	if dirExists(filepath.Join(m.Dir, "monitoring", "grafana-dashboards")) {
		lintDashboards(c, m)
		if !includes(content, `include "helm_lib_grafana_dashboard_definitions`) {
			c.add(LinterTemplates, "grafana-dashboards", monitoringTemplate, 0,
				`monitoring/grafana-dashboards is not rendered: add {{- include "helm_lib_grafana_dashboard_definitions" . }} to %s`, monitoringTemplate)
		}
	}
	if dirExists(filepath.Join(m.Dir, "monitoring", "prometheus-rules")) && !includes(content, `include "helm_lib_prometheus_rules`) {
		c.add(LinterTemplates, "prometheus-rules", monitoringTemplate, 0,
			`monitoring/prometheus-rules is not rendered: add {{- include "helm_lib_prometheus_rules" (list . "<namespace: d8-monitoring, d8-system or the module's>") }} to %s`, monitoringTemplate)
	}
}

// includes reports whether a line of content holds want, spaces ignored on
// both sides (dmt's comparison, so `include  "x"` and `include "x"` match).
func includes(content []byte, want string) bool {
	want = strings.ReplaceAll(want, " ", "")
	for _, line := range strings.Split(string(content), "\n") {
		if strings.Contains(strings.ReplaceAll(line, " ", ""), want) {
			return true
		}
	}
	return false
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
