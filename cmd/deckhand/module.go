package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/lint"
	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/output"
)

const groupModule = "module"

// newModuleCommand returns the `deckhand module` command group: init, lint,
// render, test, build, push (module_publish.go) and sign (signing.go).
func newModuleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "module",
		Short: "Develop and publish a module: init, lint, render, test, build, push, sign",
		Long: `Develop and publish a DKP module:
  init     scaffold a module that lints clean and renders
  lint     check it with dmt's rules
  render   print the manifests Helm would apply
  test     run its hook test cases (tests/*.yaml) without a cluster
  build    build its OCI artifacts into an OCI image layout
  push     build and push it to a module source in a registry
  sign     sign a published version (cosign-compatible)`,
		Example: `  # from nothing to a module in a registry
  deckhand module init hello-world
  deckhand module lint ./hello-world
  deckhand module test ./hello-world
  deckhand module push ./hello-world --repo registry.example.io/acme/modules --version v0.1.0 --channel stable`,
		GroupID: groupModule,
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(newModuleInitCommand(), newModuleLintCommand(), newModuleRenderCommand())
	cmd.AddCommand(newModuleTestCommand())
	cmd.AddCommand(newModuleBuildCommand(), newModulePushCommand(), newModuleSignCommand())
	return cmd
}

func newModuleInitCommand() *cobra.Command {
	var dir, format string
	cmd := &cobra.Command{
		Use:   "init NAME",
		Short: "Create a new module that lints clean and renders",
		Long: `Create a module directory: module.yaml, Chart.yaml, openapi schemas with x-examples,
a Deployment and ConfigMap, an onStartup shell hook, docs/README.md (with its Russian twin docs/README.ru.md) and .helmignore.
NAME is the kebab-case module name; the directory defaults to ./NAME.`,
		Example: `  # ./hello-world, ready for lint, render and test
  deckhand module init hello-world

  # somewhere else; print only the created files
  deckhand module init hello-world --dir modules/hello-world -o name`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := dir
			if target == "" {
				target = args[0]
			}
			files, err := (&module.Scaffold{Name: args[0], Dir: target}).Run()
			if err != nil {
				return err
			}
			paths := make([]string, len(files))
			for i, f := range files {
				paths[i] = filepath.Join(target, f)
			}
			res := map[string]any{"module": args[0], "dir": target, "files": paths}
			return output.PrintList(cmd.OutOrStdout(), format, res, output.List{
				Names: paths,
				Human: func(w io.Writer, _ bool) error {
					for _, p := range paths {
						fmt.Fprintln(w, p)
					}
					_, err := fmt.Fprintf(w, "created module %s in %s\n", args[0], target)
					return err
				},
			})
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to create (default ./NAME)")
	output.AddFlag(cmd.Flags(), &format, true)
	return cmd
}

func newModuleLintCommand() *cobra.Command {
	var format, kubeVersion string
	cmd := &cobra.Command{
		Use:   "lint [DIR]",
		Short: "Check a module with dmt's rules; exit non-zero on errors",
		Long: `Check a module directory: module.yaml, openapi schemas and x-examples, hook --config
output, CRDs, the chart rendered with default values and each x-example, and the rendered
objects (namespaces, labels, container resources, probes and securityContext).
Rules are silenced per module with dmt's .dmtlint.yaml. Output: file:line: rule-id: message,
or the whole result with -o json|yaml.`,
		Example: `  # the module in the current directory
  deckhand module lint

  # for CI: the problems as JSON; the exit code is 1 on errors
  deckhand module lint ./hello-world -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			res, err := (&lint.Lint{KubeVersion: kubeVersion}).Run(cmd.Context(), dir)
			if err != nil {
				return err
			}
			if res.Problems == nil {
				res.Problems = []lint.Problem{}
			}
			err = output.PrintText(cmd.OutOrStdout(), format, res, func(w io.Writer) error {
				for _, p := range res.Problems {
					fmt.Fprintln(w, p.String())
				}
				return nil
			})
			if err != nil {
				return err
			}
			if n := res.Errors(); n > 0 {
				return fmt.Errorf("module %s: %d lint error(s)", dir, n)
			}
			if output.Human(format) {
				// A summary on stderr, so stdout stays the list of problems.
				fmt.Fprintf(cmd.ErrOrStderr(), "module %s: %d problem(s), no errors\n", dir, len(res.Problems))
			}
			return nil
		},
	}
	output.AddFlag(cmd.Flags(), &format, false)
	deprecatedFormatAlias(cmd, &format)
	cmd.Flags().StringVar(&kubeVersion, "kube-version", "", "Kubernetes version for .Capabilities (default: deckhand's client-go version)")
	return cmd
}

func newModuleRenderCommand() *cobra.Command {
	var (
		r          module.Render
		showValues bool
	)
	cmd := &cobra.Command{
		Use:   "render [DIR]",
		Short: "Print the manifests Helm would apply for a module",
		Long: `Render a module's chart offline. Values are built as the runtime builds them: the
module's values.yaml section, config-values defaults, the settings given with -f and the
--set flags, in Helm's order: files, --set-json, --set, --set-string, --set-file,
--set-literal (what ModuleConfig spec.settings holds, validated against
openapi/config-values.yaml; an invalid value is reported with the file and line or the
flag it came from), values defaults, the registry section DKP injects (a stub here), then --module-values
on top as hooks would set them. Helm sees .Values.<moduleKey> and .Values.global (stub
globals: registry, a digest for every image of images/*, of DKP's common module and named
in the templates, cluster domain, and enabledModules: the module plus a realistic set of
DKP modules, listed in docs/modules.md). Required internal.* values, which hooks set at
runtime, get placeholders; --stub-required does the same for the other x-required-for-helm
values.`,
		Example: `  # the manifests with default settings
  deckhand module render ./hello-world

  # with settings, as a ModuleConfig would give them
  deckhand module render ./hello-world -f settings.yaml --set replicas=2

  # the values Helm sees instead of the manifests
  deckhand module render ./hello-world --show-values`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			m, err := module.Load(dir)
			if err != nil {
				return err
			}
			res, err := r.Run(cmd.Context(), m)
			if err != nil {
				return err
			}
			if showValues {
				vals, err := res.Values.ForHelm(m.Schemas)
				if err != nil {
					return err
				}
				data, err := yaml.Marshal(vals)
				if err != nil {
					return fmt.Errorf("encoding values: %w", err)
				}
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), res.Rendered.String())
			return err
		},
	}
	bindSettingsFlags(cmd.Flags(), &r)
	cmd.Flags().StringArrayVar(&r.ModuleValuesFiles, "module-values", nil, "YAML file with module values set on top, as hooks would (e.g. internal.*; repeatable)")
	cmd.Flags().BoolVar(&r.StubRequiredForHelm, "stub-required", false, "also fill missing x-required-for-helm values outside internal.* with placeholders (required internal.* values always are: hooks set them at runtime)")
	cmd.Flags().StringVar(&r.KubeVersion, "kube-version", "", "Kubernetes version for .Capabilities (default: deckhand's client-go version)")
	cmd.Flags().BoolVar(&showValues, "show-values", false, "print the values Helm renders with ({global, <moduleKey>}) instead of the manifests")
	return cmd
}
