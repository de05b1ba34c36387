package output

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

type result struct {
	Name string `json:"name"`
}

// A result without a table form prints as YAML in every human format
// (it once dereferenced the nil table func for -o wide).
func TestNoHumanFormFallsBackToYAML(t *testing.T) {
	for _, f := range []string{"", "table", "wide"} {
		var b bytes.Buffer
		if err := PrintList(&b, f, result{"a"}, List{}); err != nil || b.String() != "name: a\n" {
			t.Errorf("PrintList -o %q: %v %q", f, err, b.String())
		}
	}
	var b bytes.Buffer
	if err := Print(&b, "table", result{"a"}, nil); err != nil || b.String() != "name: a\n" {
		t.Errorf("Print: %v %q", err, b.String())
	}
}

func TestListFormats(t *testing.T) {
	l := List{
		Human: func(w io.Writer, wide bool) error {
			return WriteTable(w, func(tw io.Writer) error {
				if wide {
					Row(tw, "NAME", "EXTRA")
				} else {
					Row(tw, "NAME")
				}
				return nil
			})
		},
		Names: []string{"a", "b"},
	}
	for f, want := range map[string]string{
		"table": "NAME\n",
		"wide":  "NAME   EXTRA\n",
		"name":  "a\nb\n",
		"json":  "{\n  \"name\": \"a\"\n}\n",
		"yaml":  "name: a\n",
	} {
		var b bytes.Buffer
		if err := PrintList(&b, f, result{"a"}, l); err != nil || b.String() != want {
			t.Errorf("-o %s: %v %q, want %q", f, err, b.String(), want)
		}
	}
}

// One result refuses the list formats, naming what it accepts.
func TestSingleResultRefusesListFormats(t *testing.T) {
	for _, f := range []string{"wide", "name", "xml"} {
		err := Print(io.Discard, f, result{"a"}, func(io.Writer) error { return nil })
		if err == nil || !strings.Contains(err.Error(), Formats) || !strings.Contains(err.Error(), f) {
			t.Errorf("-o %s: %v", f, err)
		}
	}
	if err := PrintList(io.Discard, "xml", result{"a"}, List{}); err == nil || !strings.Contains(err.Error(), ListFormats) {
		t.Errorf("list -o xml: %v", err)
	}
}

// Text is written as is: a tab inside a sentence is not turned into padding.
func TestPrintTextBypassesTable(t *testing.T) {
	var b bytes.Buffer
	err := PrintText(&b, "table", nil, func(w io.Writer) error {
		_, err := io.WriteString(w, "a\tb\n")
		return err
	})
	if err != nil || b.String() != "a\tb\n" {
		t.Fatalf("%v %q", err, b.String())
	}
}

// The flag refuses a bad value when the command line is parsed.
func TestFlag(t *testing.T) {
	var single, list string
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	AddFlag(fs, &single, false)
	if single != "table" {
		t.Fatalf("default %q", single)
	}
	if err := fs.Parse([]string{"-o", "wide"}); err == nil || !strings.Contains(err.Error(), Formats) {
		t.Fatalf("single -o wide: %v", err)
	}
	if err := fs.Parse([]string{"--output", "json"}); err != nil || single != "json" {
		t.Fatalf("single -o json: %v %q", err, single)
	}
	fs = pflag.NewFlagSet("y", pflag.ContinueOnError)
	AddFlag(fs, &list, true)
	if err := fs.Parse([]string{"-o", "name"}); err != nil || list != "name" {
		t.Fatalf("list -o name: %v %q", err, list)
	}
	if u := fs.Lookup("output").Usage; !strings.Contains(u, ListFormats) {
		t.Fatalf("usage %q", u)
	}
}
