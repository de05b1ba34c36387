package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/registry"
)

const groupPublish = "publish"

// registryFlags are the connection and output flags of every registry command.
type registryFlags struct {
	config   string
	caFile   string
	insecure bool
	output   string
	progress bool
}

func (f *registryFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.config, "registry-config", "", "docker config.json with registry credentials, or a directory holding one (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json, as docker does); registry login writes it")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM file with extra CA certificates to trust for the registry")
	fs.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP and unverified TLS (loopback registries may use HTTP without it)")
	fs.BoolVar(&f.progress, "progress", isTerminal(os.Stderr), "report transfers on stderr: a progress bar on a terminal, else a line per finished transfer")
}

func (f *registryFlags) client() (*registry.Client, error) {
	opts := []registry.Option{registry.WithInsecure(f.insecure)}
	if f.config != "" {
		opts = append(opts, registry.WithDockerConfig(f.config))
	}
	if f.caFile != "" {
		opts = append(opts, registry.WithCAFile(f.caFile))
	}
	return registry.NewClient(opts...)
}

// progressFunc returns a progress callback drawing a bar on w, and a func to
// finish the bar; both are no-ops when progress is off.
func (f *registryFlags) progressFunc(w io.Writer, what string) (registry.ProgressFunc, func()) {
	if !f.progress {
		return nil, func() {}
	}
	if !isTerminal(w) {
		// Frames redrawn with \r are noise in a log file or CI output:
		// there, one plain line says what was transferred.
		var last registry.Update
		return func(u registry.Update) { last = u }, func() {
			if last.Complete > 0 {
				fmt.Fprintf(w, "%s: %d bytes transferred\n", what, last.Complete)
			}
		}
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return func(u registry.Update) {
			if u.Total > 0 && bar.GetMax64() != u.Total {
				bar.ChangeMax64(u.Total)
			}
			_ = bar.Set64(u.Complete)
		}, func() {
			_ = bar.Finish()
		}
}

func newRegistryCommand() *cobra.Command {
	f := &registryFlags{}
	cmd := &cobra.Command{
		Use:     "registry",
		Short:   "List, inspect and pull modules in a module source; move release channels",
		GroupID: groupPublish,
		Long: `A module source is a repository SOURCE (e.g. registry.example.io/acme/modules) laid out as DKP reads it:
  SOURCE:<module>                 index tag (the tag list of SOURCE is the module catalogue)
  SOURCE/<module>:vX.Y.Z          module image
  SOURCE/<module>/release:vX.Y.Z  release image (version.json, changelog.yaml, module.yaml)
  SOURCE/<module>/release:<channel>  alpha, beta, early-access, stable, rock-solid, lts`,
		Example: `  # the modules of a source, then one module's versions and channels
  deckhand registry ls registry.example.io/acme/modules
  deckhand registry tags registry.example.io/acme/modules hello-world

  # what stable points at, then promote a version to it
  deckhand registry inspect registry.example.io/acme/modules hello-world stable
  deckhand registry channel registry.example.io/acme/modules hello-world stable v0.2.0`,
	}
	f.bind(cmd.PersistentFlags())
	output.AddFlag(cmd.PersistentFlags(), &f.output, true)
	cmd.PersistentFlags().Lookup("output").Usage += " (wide and name: the lists of ls and tags)"
	cmd.AddCommand(
		newRegistryLsCommand(f),
		newRegistryTagsCommand(f),
		newRegistryInspectCommand(f),
		newRegistryPullCommand(f),
		newRegistryChannelCommand(f),
		newRegistryVerifyCommand(f),
		newRegistryLoginCommand(f),
		newRegistryLogoutCommand(f),
	)
	return cmd
}

func newRegistryLsCommand(f *registryFlags) *cobra.Command {
	var channel string
	cmd := &cobra.Command{
		Use:   "ls SOURCE",
		Short: "List the modules registered in a source",
		Long: `Lists the modules of SOURCE (the tags of SOURCE, as DKP scans them). With --channel, each
module's version on that channel and its release checksum: what the operator sees when it scans
the source (ModuleSource status.modules[].version and .checksum).`,
		Example: `  deckhand registry ls registry.example.io/acme/modules
  deckhand registry ls registry.example.io/acme/modules --channel stable -o json`,
		Args: exactArgs("SOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			mods, err := c.ListModules(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if len(mods) == 0 {
				// An empty table hides a wrong path: people get the reason
				// instead; json/yaml keep the empty list for scripts.
				why, err := c.EmptySource(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				empty := map[string]any{"source": args[0], "modules": []string{}}
				if channel != "" {
					empty["channel"] = channel
				}
				return output.PrintList(cmd.OutOrStdout(), f.output, empty, output.List{
					Names: []string{},
					Human: func(w io.Writer, _ bool) error {
						_, err := fmt.Fprintln(w, why)
						return err
					},
				})
			}
			if channel == "" {
				return output.PrintList(cmd.OutOrStdout(), f.output, map[string]any{"source": args[0], "modules": mods}, output.List{
					Names: mods,
					Human: func(w io.Writer, _ bool) error {
						return output.WriteTable(w, func(tw io.Writer) error {
							output.Row(tw, "MODULE")
							for _, m := range mods {
								output.Row(tw, m)
							}
							return nil
						})
					},
				})
			}
			type entry struct {
				Name     string `json:"name"`
				Version  string `json:"version,omitempty"`
				Checksum string `json:"checksum,omitempty"`
				Error    string `json:"pullError,omitempty"`
			}
			entries := make([]entry, 0, len(mods))
			for _, m := range mods {
				e := entry{Name: m}
				if rel, err := c.FetchRelease(cmd.Context(), args[0], m, channel); err != nil {
					e.Error = err.Error()
				} else {
					e.Version, e.Checksum = rel.Version, rel.Checksum()
				}
				entries = append(entries, e)
			}
			return output.PrintList(cmd.OutOrStdout(), f.output, map[string]any{"source": args[0], "channel": channel, "modules": entries}, output.List{
				Names: mods,
				Human: func(w io.Writer, _ bool) error {
					return output.WriteTable(w, func(tw io.Writer) error {
						output.Row(tw, "MODULE", "VERSION", "CHECKSUM", "ERROR")
						for _, e := range entries {
							output.Row(tw, e.Name, dash(e.Version), dash(e.Checksum), dash(e.Error))
						}
						return nil
					})
				},
			})
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "also show each module's version on this channel (alpha, beta, early-access, stable, rock-solid, lts)")
	return cmd
}

func newRegistryTagsCommand(f *registryFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "tags SOURCE MODULE",
		Short: "List the versions and release channels of a module",
		Example: `  deckhand registry tags registry.example.io/acme/modules hello-world
  deckhand registry tags registry.example.io/acme/modules hello-world -o name`,
		Args: exactArgs("SOURCE", "MODULE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			tags, err := c.Tags(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			versions := make([]string, len(tags.Versions))
			for i, v := range tags.Versions {
				versions[i] = v.Version
			}
			return output.PrintList(cmd.OutOrStdout(), f.output, tags, output.List{
				Names: versions,
				Human: func(w io.Writer, _ bool) error {
					return output.WriteTable(w, func(tw io.Writer) error {
						output.Row(tw, "VERSION", "MODULE IMAGE", "RELEASE IMAGE", "CHANNELS")
						for _, v := range tags.Versions {
							output.Row(tw, v.Version, yesNo(v.Bundle), yesNo(v.Release), dash(strings.Join(v.On, ",")))
						}
						return nil
					})
				},
			})
		},
	}
}

func newRegistryInspectCommand(f *registryFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect SOURCE MODULE VERSION|CHANNEL",
		Short: "Show a module version: version.json, image digests, sizes, channels, changelog",
		Example: `  # what the stable channel points at
  deckhand registry inspect registry.example.io/acme/modules hello-world stable

  # one version, for scripts
  deckhand registry inspect registry.example.io/acme/modules hello-world v0.1.0 -o json`,
		Args: exactArgs("SOURCE", "MODULE", "VERSION|CHANNEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			info, err := c.Inspect(cmd.Context(), args[0], args[1], args[2])
			if err != nil {
				return err
			}
			return output.PrintText(cmd.OutOrStdout(), f.output, info, func(w io.Writer) error { return printInspect(w, info) })
		},
	}
}

func newRegistryPullCommand(f *registryFlags) *cobra.Command {
	var (
		dir        string
		force      bool
		limits     registry.UnpackLimits
		verifyKeys []string
	)
	cmd := &cobra.Command{
		Use:   "pull SOURCE MODULE VERSION|CHANNEL",
		Short: "Download a module version and unpack it into a directory (replaced as a whole)",
		Long: `Unpacks the module image into DIR (default ./MODULE), replacing DIR as a whole and atomically.
The tree is exactly the image's content; the pull is recorded next to it in .DIR.deckhand-pull.json
(source, module, version, digest). An existing DIR is replaced only if it is empty or deckhand
pulled it (that file names it); anything else, such as a checkout of the module, is refused
unless --force.`,
		Example: `  # the stable version into ./hello-world
  deckhand registry pull registry.example.io/acme/modules hello-world stable

  # a version into a directory of your choice, only if signed by a trusted key
  deckhand registry pull registry.example.io/acme/modules hello-world v0.1.0 -d /tmp/hello --verify-key cosign.pub`,
		Args: exactArgs("SOURCE", "MODULE", "VERSION|CHANNEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			if err := output.Check(f.output, false); err != nil {
				return err
			}
			if dir == "" {
				dir = args[1]
			}
			po := registry.PullOptions{Limits: limits, Force: force}
			if len(verifyKeys) > 0 {
				vk, err := loadVerifyKeyFiles(verifyKeys)
				if err != nil {
					return err
				}
				// Checked before a byte is unpacked; the verified digest is pulled.
				vr, err := c.Verify(cmd.Context(), args[0], args[1], args[2], vk)
				if err != nil {
					return fmt.Errorf("not pulled: %w", err)
				}
				po.Digest = vr.Bundle.Digest
			}
			progress, finish := f.progressFunc(cmd.ErrOrStderr(), "pulling "+args[1]+" "+args[2])
			po.Progress = progress
			res, err := c.Pull(cmd.Context(), args[0], args[1], args[2], filepath.Clean(dir), po)
			finish()
			if np := (*registry.NotPulledError)(nil); errors.As(err, &np) {
				return fmt.Errorf("%w; pass --force to replace it", err)
			}
			if err != nil {
				return err
			}
			return output.PrintText(cmd.OutOrStdout(), f.output, res, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Pulled %s %s (%s) into %s\n", res.Module, res.Version, res.Digest, res.Dir)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&dir, "dir", "d", "", "directory to unpack into (default ./MODULE)")
	cmd.Flags().BoolVar(&force, "force", false, "replace DIR even if it is not a directory deckhand pulled (its content is deleted)")
	cmd.Flags().Int64Var(&limits.MaxFileSize, "max-file-size", 256<<20, "refuse an archive with a file larger than this many bytes")
	cmd.Flags().Int64Var(&limits.MaxTotalSize, "max-total-size", 1<<30, "refuse an archive larger than this many bytes unpacked")
	cmd.Flags().StringArrayVar(&verifyKeys, "verify-key", nil, "pull only if a signature by this public key covers the version (repeatable)")
	return cmd
}

func newRegistryChannelCommand(f *registryFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "channel SOURCE MODULE CHANNEL VERSION",
		Short: "Point a release channel of a module at a published version",
		Long:  "CHANNEL is one of " + strings.Join(registry.Channels(), ", ") + ".",
		Example: `  # promote v0.1.0 to stable
  deckhand registry channel registry.example.io/acme/modules hello-world stable v0.1.0`,
		Args: exactArgs("SOURCE", "MODULE", "CHANNEL", "VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := output.Check(f.output, false); err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			res, err := c.SetChannel(cmd.Context(), args[0], args[1], args[2], args[3])
			if err != nil {
				return err
			}
			return output.PrintText(cmd.OutOrStdout(), f.output, res, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Channel %s of %s -> %s (was %s)\n", res.Channel, res.Module, res.Version, dash(res.Previous))
				return err
			})
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
