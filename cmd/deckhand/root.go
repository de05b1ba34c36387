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
	root.AddGroup(&cobra.Group{ID: groupEnvironment, Title: "Local environment:"})
	root.AddCommand(newVersionCommand(), newDevCommand())
	root.AddGroup(&cobra.Group{ID: groupModule, Title: "Module development:"})
	root.AddCommand(newModuleCommand())
	addPublishCommands(root)
	addHooksCommands(root)
	return root
}
