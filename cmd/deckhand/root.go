package main

import (
	"github.com/spf13/cobra"
)

// Command groups shown by --help, in order.
const (
	groupEnvironment = "environment"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "deckhand",
		Short: "Develop, publish and run Deckhouse platform modules",
		Long: `deckhand implements the Deckhouse Kubernetes Platform module system as one binary:
develop a module on a laptop, publish it to an OCI registry, and run it in a cluster.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Groups appear in --help in the order they are added.
	root.AddGroup(
		&cobra.Group{ID: groupModule, Title: "Module development:"},
		&cobra.Group{ID: groupPublish, Title: "Publishing:"},
	)
	root.AddCommand(newModuleCommand(), newRegistryCommand())
	addHooksCommands(root)
	root.AddCommand(newRunCommand())
	root.AddGroup(&cobra.Group{ID: groupEnvironment, Title: "Local environment:"})
	root.AddCommand(newDevCommand(), newVersionCommand())
	return root
}
