package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/deckhand-dev/deckhand/internal/buildinfo"
	"github.com/deckhand-dev/deckhand/internal/output"
)

func newVersionCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print deckhand's version, commit, Go and Kubernetes library versions",
		Example: `  deckhand version
  deckhand version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := buildinfo.Get()
			return output.Print(cmd.OutOrStdout(), format, info, func(w io.Writer) error {
				commit := info.Commit
				if info.Modified {
					commit += " (modified)"
				}
				output.Row(w, "deckhand:", info.Version)
				output.Row(w, "commit:", commit)
				output.Row(w, "go:", info.GoVersion+" "+info.Platform)
				output.Row(w, "kubernetes:", info.KubernetesVersion)
				libs := make([]string, 0, len(info.Libraries))
				for lib := range info.Libraries {
					libs = append(libs, lib)
				}
				sort.Strings(libs)
				for _, lib := range libs {
					output.Row(w, fmt.Sprintf("  %s:", lib), info.Libraries[lib])
				}
				return nil
			})
		},
	}
	output.AddFlag(cmd.Flags(), &format, false)
	return cmd
}
