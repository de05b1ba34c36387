package main

import (
	"fmt"
	"strings"

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
	root.AddCommand(newOperatorCommand())
	root.AddCommand(newStatusCommand())
	root.AddGroup(&cobra.Group{ID: groupEnvironment, Title: "Local environment:"})
	root.AddCommand(newDevCommand(), newVersionCommand())
	for _, c := range root.Commands() {
		failOnUnknownSubcommand(c)
	}
	return root
}

// failOnUnknownSubcommand makes a command group (a command with
// subcommands and nothing to run itself) fail on a mistyped subcommand with
// cobra's "did you mean" suggestions, as the top level does, instead of
// printing help and exiting 0.
func failOnUnknownSubcommand(c *cobra.Command) {
	for _, sub := range c.Commands() {
		failOnUnknownSubcommand(sub)
	}
	if !c.HasSubCommands() {
		return
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if c.Runnable() {
		// A group that runs itself (dev): arguments it refuses are taken
		// for a mistyped subcommand.
		if own := c.Args; own != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := own(cmd, args); err != nil && len(args) > 0 {
					return unknownSubcommand(cmd, args[0])
				}
				return nil
			}
		}
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return unknownSubcommand(cmd, args[0])
	}
}

func unknownSubcommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return fmt.Errorf("%s\nRun '%s --help' for usage", msg, cmd.CommandPath())
}
