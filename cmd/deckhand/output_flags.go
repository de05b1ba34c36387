package main

import (
	"github.com/spf13/cobra"
)

// deprecatedFormatAlias keeps --format, the output flag's name before every
// command took -o/--output, working as a hidden, deprecated alias of it.
// The value is checked where the result is printed (output.Print*), or
// earlier with output.Check by commands that change something.
func deprecatedFormatAlias(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "format", *p, "output format (deprecated: use -o/--output)")
	_ = cmd.Flags().MarkDeprecated("format", "use -o/--output")
}
