package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/lint"
	"github.com/deckhand-dev/deckhand/internal/module"
)

const groupModule = "module"

// newModuleCommand returns the `deckhand module` command group: init, lint,
// render, test, build and push (the last two in module_publish.go).
func newModuleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "module",
		Short:   "Develop a module: scaffold, lint and render it",
		GroupID: groupModule,
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(newModuleInitCommand(), newModuleLintCommand(), newModuleRenderCommand())
	cmd.AddCommand(newModuleTestCommand())
	cmd.AddCommand(newModuleBuildCommand(), newModulePushCommand(), newModuleSignCommand())
	return cmd
}

func newModuleInitCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "init NAME",
		Short: "Create a new module that lints clean and renders",
		Long: `Create a module directory: module.yaml, Chart.yaml, openapi schemas with x-examples,
a Deployment and ConfigMap, an onStartup shell hook, docs/README.md and .helmignore.
NAME is the kebab-case module name; the directory defaults to ./NAME.`,
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
			out := cmd.OutOrStdout()
			for _, f := range files {
				fmt.Fprintln(out, filepath.Join(target, f))
			}
			fmt.Fprintf(out, "created module %s in %s\n", args[0], target)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to create (default ./NAME)")
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
Rules are silenced per module with dmt's .dmtlint.yaml. Output: file:line: rule-id: message.`,
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
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				if res.Problems == nil {
					res.Problems = []lint.Problem{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			case "", "text":
				for _, p := range res.Problems {
					fmt.Fprintln(out, p.String())
				}
			default:
				return fmt.Errorf("unknown format %q: use text or json", format)
			}
			if n := res.Errors(); n > 0 {
				return fmt.Errorf("module %s: %d lint error(s)", dir, n)
			}
			if format != "json" {
				// A summary on stderr, so stdout stays the list of problems.
				fmt.Fprintf(cmd.ErrOrStderr(), "module %s: %d problem(s), no errors\n", dir, len(res.Problems))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text|json")
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
module's values.yaml section, config-values defaults, the settings given with -f/--set
(what ModuleConfig spec.settings holds, validated against openapi/config-values.yaml),
values defaults, the registry section DKP injects (a stub here), then --module-values
on top as hooks would set them. Helm sees .Values.<moduleKey> and .Values.global (stub
globals: registry, a digest for every image of images/*, of DKP's common module and named
in the templates, cluster domain, and enabledModules: the module plus a realistic set of
DKP modules, listed in docs/modules.md). Required internal.* values, which hooks set at
runtime, get placeholders; --stub-required does the same for the other x-required-for-helm
values.`,
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
	cmd.Flags().StringArrayVarP(&r.SettingsFiles, "values", "f", nil, "YAML file with module settings (repeatable)")
	cmd.Flags().StringArrayVar(&r.Set, "set", nil, "set a setting: key=value, Helm --set syntax (repeatable)")
	cmd.Flags().StringArrayVar(&r.ModuleValuesFiles, "module-values", nil, "YAML file with module values set on top, as hooks would (e.g. internal.*; repeatable)")
	cmd.Flags().BoolVar(&r.StubRequiredForHelm, "stub-required", false, "also fill missing x-required-for-helm values outside internal.* with placeholders (required internal.* values always are: hooks set them at runtime)")
	cmd.Flags().StringVar(&r.KubeVersion, "kube-version", "", "Kubernetes version for .Capabilities (default: deckhand's client-go version)")
	cmd.Flags().BoolVar(&showValues, "show-values", false, "print the values Helm renders with ({global, <moduleKey>}) instead of the manifests")
	return cmd
}
