package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/registry"
)

// artifactFlags are the inputs shared by build and push. Both load the module
// with internal/module first, so a broken module is refused with the loader's
// file/field error before anything is built (registry does not import module).
type artifactFlags struct {
	version    string
	images     []string
	imagesFile string
}

func (a *artifactFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.version, "version", "", "module version, semver (vX.Y.Z)")
	cmd.Flags().StringArrayVar(&a.images, "image", nil, "container image of the module, NAME=REF (repeatable); its digest goes to images_digests.json")
	cmd.Flags().StringVar(&a.imagesFile, "images-file", "", "file mapping image NAME to REF (YAML/JSON map, or a werf build report)")
}

func (a *artifactFlags) build(cmd *cobra.Command, dir string, c *registry.Client) (*registry.Artifacts, error) {
	if a.version == "" {
		return nil, fmt.Errorf("--version is required: the module version, semver like v1.2.3")
	}
	// A module the loader refuses (module.yaml, openapi, ...) is not published.
	if _, err := module.Load(dir); err != nil {
		return nil, err
	}
	images, err := registry.ParseImageFlags(a.images)
	if err != nil {
		return nil, err
	}
	if a.imagesFile != "" {
		fromFile, err := registry.LoadImagesFile(a.imagesFile)
		if err != nil {
			return nil, err
		}
		images = append(fromFile, images...)
	}
	m, err := module.Load(dir)
	if err != nil {
		return nil, err
	}
	return registry.Build(cmd.Context(), m, registry.BuildOptions{Version: a.version, Images: images, Client: c})
}

func moduleDirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

func newModuleBuildCommand() *cobra.Command {
	var (
		a        artifactFlags
		f        registryFlags
		out      string
		channels []string
	)
	cmd := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build the module's OCI artifacts into an OCI image layout (no Docker needed)",
		Long: `Builds the module image (module tree + version.json + images_digests.json), the release
image (version.json, changelog.yaml, module.yaml, crds/, openapi/, docs) and the index image
into an OCI image layout directory. The same files and version always give the same digests.

The module image carries modules-template's bundle list only: .helmignore, Chart.yaml,
module.yaml, values.yaml, enabled, package.yaml, charts/, crds/, hooks/ (without hooks/batch),
monitoring/, openapi/, templates/, docs/*.md and docs/images/. Development files such as
tests/, images/ and dist/ stay out, so a pulled module is its source tree without them plus
version.json and images_digests.json.`,
		Example: `  # into ./hello-world/dist/hello-world-v0.1.0
  deckhand module build ./hello-world --version v0.1.0

  # into a directory of your choice, tagged for a channel, result as JSON
  deckhand module build ./hello-world --version v0.1.0 --channel stable -d ./layout -o json

  # then push the layout as built
  deckhand module push --layout ./layout --repo registry.example.io/acme/modules`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := moduleDirArg(args)
			if err := output.Check(f.output, false); err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			art, err := a.build(cmd, dir, c)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(dir, "dist", art.Module+"-"+art.Version)
			}
			places, err := registry.WriteLayout(out, art, channels)
			if err != nil {
				return err
			}
			res := map[string]any{"module": art.Module, "version": art.Version, "layout": out, "artifacts": places, "imagesDigests": art.ImagesDigests}
			return output.PrintText(cmd.OutOrStdout(), f.output, res, func(w io.Writer) error {
				err := output.WriteTable(w, func(tw io.Writer) error {
					output.Row(tw, "REPOSITORY", "TAG", "DIGEST")
					for _, p := range places {
						output.Row(tw, dash(p.Repository), p.Tag, p.Digest)
					}
					return nil
				})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(w, "Written to %s\n", out)
				return err
			})
		},
	}
	a.bind(cmd)
	f.bind(cmd.Flags())
	cmd.Flags().StringVarP(&out, "out-dir", "d", "", "OCI layout directory to write (default DIR/dist/MODULE-VERSION)")
	// --layout was the directory flag's name (with -o) before -o meant the
	// output format as everywhere else.
	cmd.Flags().StringVar(&out, "layout", "", "OCI layout directory to write (deprecated: use -d/--out-dir)")
	_ = cmd.Flags().MarkDeprecated("layout", "use -d/--out-dir")
	output.AddFlag(cmd.Flags(), &f.output, false)
	deprecatedFormatAlias(cmd, &f.output)
	cmd.Flags().StringArrayVar(&channels, "channel", nil, "also tag the release for this channel in the layout (repeatable)")
	return cmd
}

func newModulePushCommand() *cobra.Command {
	var (
		a        artifactFlags
		f        registryFlags
		repo     string
		channels []string
		force    bool
		fromDir  string
		signKey  string
	)
	cmd := &cobra.Command{
		Use:   "push [DIR]",
		Short: "Build and push the module to a module source in a registry",
		Long: `Pushes to --repo SOURCE: the module's container images (copied into SOURCE/MODULE by digest),
SOURCE/MODULE:VERSION, SOURCE/MODULE/release:VERSION, the --channel tags, and last the index tag
SOURCE:MODULE that makes DKP discover the module. An existing version with other content is
refused unless --force; the same content again is a no-op.`,
		Example: `  # build and push v0.1.0, and point the stable channel at it
  deckhand module push ./hello-world --repo registry.example.io/acme/modules --version v0.1.0 --channel stable

  # push a layout written by module build, signed
  deckhand module push --layout ./layout --repo registry.example.io/acme/modules --sign-key cosign.key`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := output.Check(f.output, false); err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			var art *registry.Artifacts
			if fromDir != "" {
				if len(args) > 0 || len(a.images) > 0 || a.imagesFile != "" {
					return fmt.Errorf("--layout pushes a built layout: drop DIR, --image and --images-file")
				}
				var built []string
				if art, built, err = registry.ReadLayout(fromDir); err != nil {
					return err
				}
				if a.version != "" {
					if v, err := registry.ParseVersion(a.version); err != nil || v != art.Version {
						return fmt.Errorf("--version %s does not match the layout's version %s", a.version, art.Version)
					}
				}
				channels = append(channels, built...)
			} else if art, err = a.build(cmd, moduleDirArg(args), c); err != nil {
				return err
			}
			var key *registry.SigningKey
			if signKey != "" {
				if key, err = loadSigningKeyFile(signKey); err != nil {
					return err
				}
			}
			progress, finish := f.progressFunc(cmd.ErrOrStderr(), "pushing "+art.Module+" "+art.Version)
			res, err := c.Push(cmd.Context(), repo, art, registry.PushOptions{Channels: channels, Force: force, Progress: progress})
			finish()
			if err != nil {
				return err
			}
			if key != nil {
				if _, err := c.Sign(cmd.Context(), repo, art.Module, art.Version, key); err != nil {
					return fmt.Errorf("pushed, but signing failed: %w", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "signed %s %s with key %s\n", art.Module, art.Version, key.KeyID)
			}
			return output.PrintText(cmd.OutOrStdout(), f.output, res, func(w io.Writer) error {
				err := output.WriteTable(w, func(tw io.Writer) error {
					output.Row(tw, "REFERENCE", "DIGEST")
					for _, p := range res.Placements {
						ref := res.Source + ":" + p.Tag
						if p.Repository != "" {
							ref = res.Source + "/" + p.Repository + ":" + p.Tag
						}
						output.Row(tw, ref, p.Digest)
					}
					for _, k := range sortedKeys(res.Images) {
						output.Row(tw, res.Images[k], "("+k+")")
					}
					return nil
				})
				if err == nil && res.Unchanged {
					_, err = fmt.Fprintf(w, "%s %s was already published with the same content\n", res.Module, res.Version)
				}
				return err
			})
		},
	}
	a.bind(cmd)
	f.bind(cmd.Flags())
	cmd.Flags().StringVar(&repo, "repo", "", "module source repository, REGISTRY/PATH (e.g. registry.example.io/acme/modules)")
	cmd.Flags().StringArrayVar(&channels, "channel", nil, "point this release channel at the version (repeatable): "+fmt.Sprint(registry.Channels()))
	output.AddFlag(cmd.Flags(), &f.output, false)
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the version if it was published with different content")
	cmd.Flags().StringVar(&fromDir, "layout", "", "push the OCI layout directory written by module build instead of building DIR")
	cmd.Flags().StringVar(&signKey, "sign-key", "", "sign the module and release images with this key (cosign's format with $COSIGN_PASSWORD, or PEM)")
	_ = cmd.MarkFlagRequired("repo")
	return cmd
}
