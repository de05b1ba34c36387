package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deckhand-dev/deckhand/internal/localenv"
)

func newDevPrepareCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "prepare",
		Short: "Build and cache kube-apiserver and etcd, check the registry binary; print KUBEBUILDER_ASSETS",
		Long: `prepare does the one-time work of "deckhand dev" without starting anything: it builds
kube-apiserver and etcd from the Go module proxy into the cache (reused afterwards)
and checks that docker-registry is installed. The printed KUBEBUILDER_ASSETS line
points controller-runtime's envtest (in any project) at the same binaries.`,
		Example: `  # once, e.g. in a CI image, so that later deckhand dev runs start in seconds
  deckhand dev prepare

  # point envtest-based tests at the cached binaries
  eval "$(deckhand dev prepare)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := localenv.EnsureKubeBinaries(cmd.Context(), localenv.KubernetesVersion(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if _, err := localenv.DockerRegistryBinary(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "export KUBEBUILDER_ASSETS=%s\n", dir)
			return nil
		},
	}
}
