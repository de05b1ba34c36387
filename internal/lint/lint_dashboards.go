package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/deckhand-dev/deckhand/internal/module"
)

var (
	deprecatedPanelTypes = map[string]string{"graph": "timeseries", "flant-statusmap-panel": "state-timeline"}
	deprecatedIntervals  = []string{"interval_rv", "interval_sx3", "interval_sx4"}
	promDatasourceUIDs   = []string{"$ds_prometheus", "${ds_prometheus}"}
)

// lintDashboards checks each monitoring/grafana-dashboards/**/*.json and
// *.tpl file (templates/grafana-dashboards): no deprecated panel types,
// intervals or legacy alerts; datasources chosen through the ds_prometheus
// variable, never a hard-coded UID.
func lintDashboards(c *collector, m *module.Module) {
	root := filepath.Join(m.Dir, "monitoring", "grafana-dashboards")
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (!strings.HasSuffix(path, ".json") && !strings.HasSuffix(path, ".tpl")) {
			return nil
		}
		rel := relTo(m.Dir, path)
		add := func(format string, args ...any) {
			c.add(LinterTemplates, "grafana-dashboards", rel, 0, format, args...)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			add("reading dashboard: %v", err)
			return nil
		}
		var dash map[string]any
		if err := json.Unmarshal(data, &dash); err != nil {
			if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
				// dmt reads such files with a lenient JSON reader; deckhand
				// cannot, so it says what it skipped rather than pass it silently.
				c.warn(LinterTemplates, "grafana-dashboards", rel, 0, "dashboard is not plain JSON (%v), so deckhand did not check its panels: dmt still does", err)
				return nil
			}
			add("dashboard file is not valid JSON")
			return nil
		}
		for _, p := range dashboardPanels(dash) {
			lintPanel(add, p)
		}
		lintDashboardVariables(add, dash)
		return nil
	})
}

// dashboardPanels are the panels of old-style rows, top-level panels, and
// the panels inside row panels.
func dashboardPanels(dash map[string]any) []map[string]any {
	var out []map[string]any
	for _, row := range objects(dash["rows"]) {
		out = append(out, objects(row["panels"])...)
	}
	for _, p := range objects(dash["panels"]) {
		if jsonString(p["type"]) == "row" {
			out = append(out, objects(p["panels"])...)
		} else {
			out = append(out, p)
		}
	}
	return out
}

func lintPanel(add func(string, ...any), p map[string]any) {
	title := jsonString(p["title"])
	if title == "" {
		title = "unnamed"
	}
	if typ := jsonString(p["type"]); deprecatedPanelTypes[typ] != "" {
		add("panel %q uses deprecated type %q: use %q", title, typ, deprecatedPanelTypes[typ])
	}
	targets := objects(p["targets"])
	for _, t := range targets {
		expr := jsonString(t["expr"])
		for _, iv := range deprecatedIntervals {
			if strings.Contains(expr, iv) {
				add("panel %q uses deprecated interval %q: use $__rate_interval", title, iv)
			}
		}
	}
	if alert, ok := p["alert"]; ok {
		name := ""
		if a, ok := alert.(map[string]any); ok {
			name = jsonString(a["name"])
		}
		if name == "" {
			name = "unnamed"
		}
		add("panel %q has a legacy Grafana alert %q: define alerts as Prometheus rules for Alertmanager", title, name)
	}
	for _, t := range targets {
		ds, ok := t["datasource"]
		if !ok {
			continue
		}
		dsObj, _ := ds.(map[string]any)
		uid, hasUID := dsObj["uid"]
		uidStr := jsonString(uid)
		if !hasUID {
			uidStr = jsonString(ds)
			add("panel %q uses the legacy datasource format: re-save the dashboard with a current Grafana", title)
		}
		if !strings.HasPrefix(uidStr, "$") {
			add("panel %q has the hard-coded datasource UID %q: use a Datasource variable", title, uidStr)
		}
		if jsonString(dsObj["type"]) == "prometheus" && !slices.Contains(promDatasourceUIDs, uidStr) {
			add("panel %q: the Prometheus datasource must be one of %s, not %q", title, strings.Join(promDatasourceUIDs, ", "), uidStr)
		}
	}
}

func lintDashboardVariables(add func(string, ...any), dash map[string]any) {
	templating, _ := dash["templating"].(map[string]any)
	hasDS := false
	for _, v := range objects(templating["list"]) {
		typ, name := jsonString(v["type"]), jsonString(v["name"])
		if typ == "datasource" && jsonString(v["query"]) == "prometheus" && name == "ds_prometheus" {
			hasDS = true
		}
		ds, _ := v["datasource"].(map[string]any)
		uid, hasUID := ds["uid"]
		if typ == "query" && jsonString(ds["type"]) == "prometheus" && hasUID && !slices.Contains(promDatasourceUIDs, jsonString(uid)) {
			add("dashboard variable %q must use %s as its datasource", name, strings.Join(promDatasourceUIDs, ", "))
		}
	}
	if !hasDS {
		add(`dashboard has no Prometheus datasource variable: add one with type "datasource", query "prometheus" and name "ds_prometheus"`)
	}
}

// objects are the object elements of a JSON array (others are skipped).
func objects(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// jsonString is a JSON value as text: a string as is, null or absent as "",
// anything else in its JSON form.
func jsonString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64, bool:
		return fmt.Sprint(t)
	}
	data, _ := json.Marshal(v)
	return string(data)
}
