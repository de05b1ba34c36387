// Package output prints command results the way kubectl does: a table for
// people, or JSON / YAML for scripts (-o json|yaml), and for lists also
// -o wide and -o name. It owns the -o/--output flag so that every command
// accepts and refuses the same values. It imports no deckhand package.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// Formats accepted by Print and PrintText (one result), for flag help.
const Formats = "table|json|yaml"

// ListFormats accepted by PrintList (a list of results), for flag help.
const ListFormats = "table|wide|name|json|yaml"

// Print writes v as JSON or YAML, or calls table with a tab-aligned writer for
// the human format ("" or "table"). A result with no table form (table nil)
// prints as YAML for people.
func Print(w io.Writer, format string, v any, table func(tw io.Writer) error) error {
	var human func(io.Writer) error
	if table != nil {
		human = func(w io.Writer) error { return WriteTable(w, table) }
	}
	return PrintText(w, format, v, human)
}

// PrintText is Print for a result whose human form is sentences or
// preformatted text: text writes to w directly, not through a table writer
// (which would pad or split lines holding tabs).
func PrintText(w io.Writer, format string, v any, text func(w io.Writer) error) error {
	f, err := parse(format, false)
	if err != nil {
		return err
	}
	if f == "table" {
		if text == nil {
			return encode(w, "yaml", v)
		}
		return text(w)
	}
	return encode(w, f, v)
}

// List is the human form of a list result.
type List struct {
	// Human writes the table (use WriteTable for aligned columns) and its
	// footer sentences; wide is set for -o wide, which adds the columns
	// that do not fit a terminal.
	Human func(w io.Writer, wide bool) error
	// Names are the items' names, printed one a line by -o name.
	Names []string
}

// PrintList writes a list result in any of ListFormats.
func PrintList(w io.Writer, format string, v any, l List) error {
	f, err := parse(format, true)
	if err != nil {
		return err
	}
	switch f {
	case "table", "wide":
		if l.Human == nil {
			return encode(w, "yaml", v)
		}
		return l.Human(w, f == "wide")
	case "name":
		for _, n := range l.Names {
			if _, err := fmt.Fprintln(w, n); err != nil {
				return err
			}
		}
		return nil
	}
	return encode(w, f, v)
}

// WriteTable runs rows with a tab-aligned writer on w and flushes it.
func WriteTable(w io.Writer, rows func(tw io.Writer) error) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	if err := rows(tw); err != nil {
		return err
	}
	return tw.Flush()
}

func encode(w io.Writer, format string, v any) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding YAML: %w", err)
	}
	_, err = w.Write(data)
	return err
}

// Row writes one tab-separated table row.
func Row(w io.Writer, cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(w, strings.Join(parts, "\t"))
}
