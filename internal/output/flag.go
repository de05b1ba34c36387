package output

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// parse normalises a format name and refuses what the result kind does not
// offer, naming the accepted values. "" and "text" (the name older deckhand
// versions used for the human form) mean table.
func parse(format string, list bool) (string, error) {
	f := strings.ToLower(strings.TrimSpace(format))
	switch f {
	case "", "table", "text":
		return "table", nil
	case "json", "yaml":
		return f, nil
	case "wide", "name":
		if list {
			return f, nil
		}
		return "", fmt.Errorf("output format %q is for lists, and this command prints one result: use one of %s", format, Formats)
	}
	accepted := Formats
	if list {
		accepted = ListFormats
	}
	return "", fmt.Errorf("unknown output format %q: use one of %s", format, accepted)
}

// Check reports whether format is accepted for a list (list true) or a single
// result; commands with side effects call it before acting, so a mistyped
// -o does not leave the work done and its result unprinted.
func Check(format string, list bool) error {
	_, err := parse(format, list)
	return err
}

// formatValue is the -o flag: it refuses an unknown format when the command
// line is parsed, before the command runs.
type formatValue struct {
	p    *string
	list bool
}

func (v formatValue) String() string { return *v.p }
func (v formatValue) Type() string   { return "format" }
func (v formatValue) Set(s string) error {
	if _, err := parse(s, v.list); err != nil {
		return err
	}
	*v.p = s
	return nil
}

// AddFlag registers -o/--output on fs, stored in p (default "table").
// list offers wide and name too, for commands that print a list.
func AddFlag(fs *pflag.FlagSet, p *string, list bool) {
	*p = "table"
	accepted := Formats
	if list {
		accepted = ListFormats
	}
	fs.VarP(formatValue{p: p, list: list}, "output", "o", "output format: "+accepted)
}

// Human reports whether format is one of the formats for people (table,
// wide), after which a command may add sentences on stderr.
func Human(format string) bool {
	f, err := parse(format, true)
	return err == nil && (f == "table" || f == "wide")
}
