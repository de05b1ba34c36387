package lint

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/prometheus/prometheus/promql/parser"
)

var (
	ruleGroupKeys = stringSet("name", "interval", "query_offset", "limit", "rules", "labels")
	ruleKeys      = stringSet("record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations")
	// promDuration is Prometheus' duration syntax (1d12h, 5m, 30s, 0).
	promDuration = regexp.MustCompile(`^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$`)
	// promTemplateFuncs are the functions Prometheus offers alert templates;
	// parsing only needs their names.
	promTemplateFuncs = func() template.FuncMap {
		fm := template.FuncMap{}
		for _, n := range []string{"query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml",
			"match", "title", "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "humanize", "humanize1024",
			"humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "toDuration", "pathPrefix",
			"externalURL", "parseDuration", "stripPort", "stripDomain", "now", "urlQueryEscape"} {
			fm[n] = func(...any) any { return nil }
		}
		return fm
	}()
)

// lintPrometheusRuleObjects runs the object part of templates/prometheus-rules
// on each rendered PrometheusRule: its spec is checked as promtool checks a
// rule file (groups, rule fields, names, durations, alert templates,
// duplicates, and each expr through Prometheus' PromQL parser).
func lintPrometheusRuleObjects(c *collector, s *objectSet) {
	for _, o := range s.objs {
		if o.ref.Kind != "PrometheusRule" {
			continue
		}
		for _, msg := range checkRuleFile(o.raw["spec"]) {
			c.addProblem(o.problem(LinterTemplates, "prometheus-rules", "", "groups:", "%s", msg))
		}
	}
}

// checkRuleFile returns what promtool check rules would reject in a
// PrometheusRule spec.
func checkRuleFile(spec any) []string {
	m, ok := spec.(map[string]any)
	if !ok {
		return []string{"spec is not an object with rule groups"}
	}
	var out []string
	for k := range m {
		if k != "groups" {
			out = append(out, fmt.Sprintf("spec.%s: unknown field (a rule file has only groups)", k))
		}
	}
	groups, _ := m["groups"].([]any)
	if len(groups) == 0 {
		return append(out, "no rule groups found")
	}
	seen := map[string]bool{}
	var ids []string // alert or record name plus labels, for duplicates
	for gi, rawGroup := range groups {
		g, ok := rawGroup.(map[string]any)
		if !ok {
			out = append(out, fmt.Sprintf("groups[%d] is not an object", gi))
			continue
		}
		out = append(out, unknownKeys(g, ruleGroupKeys, fmt.Sprintf("groups[%d]", gi))...)
		name, _ := g["name"].(string)
		if name == "" {
			out = append(out, fmt.Sprintf("groups[%d]: group name must not be empty", gi))
		}
		if seen[name] {
			out = append(out, fmt.Sprintf("group name %q is repeated", name))
		}
		seen[name] = true
		out = append(out, checkDuration(g, "interval", fmt.Sprintf("group %q", name))...)
		out = append(out, checkDuration(g, "query_offset", fmt.Sprintf("group %q", name))...)
		groupLabels := labelMap(g["labels"])
		out = append(out, checkLabels(groupLabels, fmt.Sprintf("group %q", name))...)
		rules, _ := g["rules"].([]any)
		for ri, rawRule := range rules {
			r, ok := rawRule.(map[string]any)
			where := fmt.Sprintf("group %q, rule %d", name, ri+1)
			if !ok {
				out = append(out, where+": not an object")
				continue
			}
			id, msgs := checkRule(r, where)
			out = append(out, msgs...)
			merged := map[string]string{}
			for k, v := range groupLabels {
				merged[k] = v
			}
			for k, v := range labelMap(r["labels"]) {
				merged[k] = v
			}
			ids = append(ids, id+labelsKey(merged))
		}
	}
	return append(out, duplicateRules(ids)...)
}

func checkRule(r map[string]any, where string) (string, []string) {
	out := unknownKeys(r, ruleKeys, where)
	record, _ := r["record"].(string)
	alert, _ := r["alert"].(string)
	expr := jsonString(r["expr"])
	name := alert
	if name == "" {
		name = record
	}
	where = fmt.Sprintf("%s, %q", where, name)
	switch {
	case record != "" && alert != "":
		out = append(out, where+": only one of record and alert may be set")
	case record == "" && alert == "":
		out = append(out, where+": one of record or alert must be set")
	}
	if strings.TrimSpace(expr) == "" {
		out = append(out, where+": expr must be set")
	} else if _, err := parser.ParseExpr(expr); err != nil {
		out = append(out, fmt.Sprintf("%s: expr: %v", where, err))
	}
	out = append(out, checkDuration(r, "for", where)...)
	out = append(out, checkDuration(r, "keep_firing_for", where)...)
	labels, annotations := labelMap(r["labels"]), labelMap(r["annotations"])
	out = append(out, checkLabels(labels, where)...)
	if record != "" {
		if len(annotations) > 0 {
			out = append(out, where+": a recording rule has no annotations")
		}
		if d := jsonString(r["for"]); d != "" && d != "0" && d != "0s" {
			out = append(out, where+": a recording rule has no for")
		}
		if d := jsonString(r["keep_firing_for"]); d != "" && d != "0" && d != "0s" {
			out = append(out, where+": a recording rule has no keep_firing_for")
		}
		if !utf8.ValidString(record) {
			out = append(out, fmt.Sprintf("%s: invalid recording rule name", where))
		}
		if strings.ContainsAny(record, "{}") {
			out = append(out, where+": braces in the recording rule name: should they be in expr?")
		}
	}
	for k := range annotations {
		if k == "" || !utf8.ValidString(k) {
			out = append(out, fmt.Sprintf("%s: invalid annotation name %q", where, k))
		}
	}
	if alert != "" {
		out = append(out, checkAlertTemplates(alert, labels, "label", where)...)
		out = append(out, checkAlertTemplates(alert, annotations, "annotation", where)...)
	}
	return name, out
}

// checkAlertTemplates parses alert label and annotation values as
// Prometheus does. An unknown function is not reported: deckhand's list of
// Prometheus' template functions may lag behind Prometheus.
func checkAlertTemplates(alert string, values map[string]string, what, where string) []string {
	const defs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	var out []string
	for _, k := range sortedStringKeys(values) {
		_, err := template.New("__alert_" + alert).Funcs(promTemplateFuncs).Option("missingkey=zero").Parse(defs + values[k])
		if err != nil && !strings.Contains(err.Error(), "not defined") {
			out = append(out, fmt.Sprintf("%s: %s %q: %v", where, what, k, err))
		}
	}
	return out
}

func checkDuration(m map[string]any, key, where string) []string {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	s, isString := v.(string)
	if !isString || !promDuration.MatchString(s) || s == "" {
		return []string{fmt.Sprintf("%s: %s %v is not a Prometheus duration (like 30s, 5m, 1h)", where, key, v)}
	}
	return nil
}

func checkLabels(labels map[string]string, where string) []string {
	var out []string
	for _, k := range sortedStringKeys(labels) {
		if k == "" || k == "__name__" || !utf8.ValidString(k) {
			out = append(out, fmt.Sprintf("%s: invalid label name %q", where, k))
		}
		if !utf8.ValidString(labels[k]) {
			out = append(out, fmt.Sprintf("%s: invalid label value %q", where, labels[k]))
		}
	}
	return out
}

func unknownKeys(m map[string]any, known map[string]bool, where string) []string {
	var out []string
	for _, k := range sortedStringKeys(m) {
		if !known[k] {
			out = append(out, fmt.Sprintf("%s: unknown field %q", where, k))
		}
	}
	return out
}

// duplicateRules reports rules with the same name and labels, which
// promtool rejects (they would record or fire as one series).
func duplicateRules(ids []string) []string {
	count := map[string]int{}
	for _, id := range ids {
		count[id]++
	}
	var out []string
	for _, id := range sortedStringKeys(count) {
		if count[id] > 1 {
			out = append(out, fmt.Sprintf("duplicate rule %s (same name and labels %d times)", id, count[id]))
		}
	}
	return out
}

func labelMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, val := range m {
		out[k] = jsonString(val)
	}
	return out
}

func labelsKey(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range sortedStringKeys(labels) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func sortedStringKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
