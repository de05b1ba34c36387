package main

import (
	"github.com/spf13/cobra"
)

const groupModule = "module"

// newModuleCommand returns the `deckhand module` command group. Subcommands
// living in other files (build, push, test) are attached by the caller, e.g.
//
//	mod := newModuleCommand()
//	mod.AddCommand(newModuleBuildCommand(), newModulePushCommand())
func newModuleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "module",
		Short:   "Develop a module: scaffold, lint and render it",
		GroupID: groupModule,
		Args:    cobra.NoArgs,
	}
	return cmd
}
