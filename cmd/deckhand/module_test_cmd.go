package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/deckhand-dev/deckhand/internal/moduletest"
	"github.com/deckhand-dev/deckhand/internal/output"
)

func newModuleTestCommand() *cobra.Command {
	var (
		t      moduletest.Test
		match  string
		format string
	)
	cmd := &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run a module's hook test cases (tests/*.yaml) and settings conversion cases without a cluster",
		Long: `Run the hook test cases under the module's tests/ directory. Each case gives cluster
objects, settings and values and a binding; deckhand serves the objects from an in-process
API server so the binding context is built by the runtime's own watch, jq filter and snapshot
code, runs the hook with the addon-operator file protocol, and compares the values patches,
object operations, metrics and, when the case asks, the binding context, the resulting values
and the rendered manifests. --update rewrites each case's expect section with the results.
The settings conversion cases of openapi/conversions/testcases.yaml (dmt test conversions'
format) run too, through the conversion code the runtime applies to ModuleConfig settings.
The format is described in docs/module-test.md.`,
		Example: `  # every case of the module in the current directory
  deckhand module test

  # the cases under tests/pods/, as JSON
  deckhand module test ./pod-reporter --run '^pods/' -o json

  # accept the current results as the expectations
  deckhand module test ./pod-reporter --update`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if match != "" {
				re, err := regexp.Compile(match)
				if err != nil {
					return fmt.Errorf("--run: %w", err)
				}
				t.Match = re
			}
			// client-go reports the watches a finished case stops as
			// errors through klog; they are not the user's concern here.
			klog.SetLogger(logr.Discard())
			rep, err := t.Run(cmd.Context(), dir)
			if err != nil {
				return err
			}
			names := make([]string, len(rep.Cases))
			for i, c := range rep.Cases {
				names[i] = c.Name
			}
			// The report is no table: diffs and hook output are indented
			// text that a table writer would re-align. wide shows the
			// same, as the report has no columns to add.
			err = output.PrintList(cmd.OutOrStdout(), format, rep, output.List{
				Names: names,
				Human: func(w io.Writer, _ bool) error {
					printTestReport(w, rep, t.Update)
					return nil
				},
			})
			if err != nil {
				return err
			}
			if len(rep.Cases) == 0 {
				return fmt.Errorf("module %s: no test case matched", rep.Module)
			}
			if rep.Failed > 0 {
				return fmt.Errorf("module %s: %d of %d test case(s) failed", rep.Module, rep.Failed, len(rep.Cases))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&t.Update, "update", false, "rewrite each case's expect section with the actual results")
	cmd.Flags().StringVar(&match, "run", "", "run only the cases whose name (path under tests/ without .yaml) matches this regular expression")
	output.AddFlag(cmd.Flags(), &format, true)
	cmd.Flags().DurationVar(&t.Timeout, "timeout", moduletest.DefaultTimeout, "time one case may take; a hook still running then is killed")
	cmd.Flags().StringVar(&t.KubeVersion, "kube-version", "", "Kubernetes version for global values and rendering (default: deckhand's client-go version)")
	return cmd
}

func printTestReport(w io.Writer, rep *moduletest.Report, update bool) {
	for _, c := range rep.Cases {
		status := "ok  "
		switch {
		case !c.Passed:
			status = "FAIL"
		case c.Updated:
			status = "upd "
		}
		label := c.File
		if c.File == moduletest.ConversionCasesFile {
			label += ": " + c.Name // one file holds many conversion cases
		}
		fmt.Fprintf(w, "%s %s (%s)\n", status, label, c.Duration.Round(time.Millisecond))
		if c.Error != "" {
			fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(c.Error, "\n", "\n    "))
		}
		if c.Diff != "" {
			fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(strings.TrimRight(c.Diff, "\n"), "\n", "\n    "))
		}
		if !c.Passed && len(c.Output) > 0 {
			fmt.Fprintf(w, "    hook output:\n")
			for _, l := range c.Output {
				fmt.Fprintf(w, "      %s\n", l)
			}
		}
	}
	verb := "passed"
	if update {
		verb = "updated"
	}
	fmt.Fprintf(w, "module %s: %d %s, %d failed\n", rep.Module, rep.Passed, verb, rep.Failed)
}
