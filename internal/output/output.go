// Package output prints command results the way kubectl does: a table for
// people, or JSON / YAML for scripts (-o json|yaml).
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// Formats accepted by Print, for flag help.
const Formats = "table|json|yaml"

// Print writes v as JSON or YAML, or calls table for the human format ("" or "table").
func Print(w io.Writer, format string, v any, table func(w io.Writer) error) error {
	switch strings.ToLower(format) {
	case "", "table", "wide":
		if table == nil {
			// A result with no table form is printed as YAML, which reads
			// as well for people.
			return Print(w, "yaml", v, nil)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
		if err := table(tw); err != nil {
			return err
		}
		return tw.Flush()
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		data, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		_, err = w.Write(data)
		return err
	default:
		return fmt.Errorf("unknown output format %q: use one of %s", format, Formats)
	}
}

// Row writes one tab-separated table row.
func Row(w io.Writer, cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(w, strings.Join(parts, "\t"))
}
