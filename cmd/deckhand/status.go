package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-dev/deckhand/internal/operator"
	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/release"
)

func newStatusCommand() *cobra.Command {
	var kubeconfig, kubeContext, format string
	cmd := &cobra.Command{
		Use:     "status [MODULE]",
		GroupID: groupHooks,
		Short:   "Say which source and version of a module run, its releases, policy, next update and why it is not Ready",
		Long: `status answers, from the objects in the cluster, what a person otherwise puts together
from five kubectl calls: for a module, the source and version that run, the release
history, the update policy and the next update it waits for (and on what: an
approval, a window, a minor in between), a pull override in force, and why the
module is not Ready (the failing hook or template with its message, or the
suspended release and its reason). Without MODULE, one line per module.`,
		Example: `  # every module, one line each
  deckhand status

  # one module in detail
  deckhand status hello

  # for scripts
  deckhand status hello -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadRestConfig(kubeconfig, kubeContext)
			if err != nil {
				return err
			}
			c, err := operator.NewClient(cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				rep, err := release.Explain(cmd.Context(), c, args[0])
				if err != nil {
					return err
				}
				return output.PrintText(out, format, rep, func(w io.Writer) error { return printReport(w, rep) })
			}
			reps, err := release.ExplainAll(cmd.Context(), c)
			if err != nil {
				return err
			}
			names := make([]string, len(reps))
			for i, r := range reps {
				names[i] = r.Module
			}
			return output.PrintList(out, format, reps, output.List{
				Names: names,
				Human: func(w io.Writer, _ bool) error {
					return output.WriteTable(w, func(tw io.Writer) error {
						output.Row(tw, "MODULE", "ENABLED", "SOURCE", "VERSION", "PHASE", "READY", "NEXT")
						for _, r := range reps {
							output.Row(tw, r.Module, r.Enabled, dash(r.Source), dash(r.Version), dash(r.Phase), r.Ready, dash(r.Next))
						}
						return nil
					})
				},
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&kubeContext, "context", "", "kubeconfig context")
	output.AddFlag(f, &format, true)
	f.Lookup("output").Usage += " (wide and name: the list without MODULE)"
	return cmd
}

// printReport writes one module's report: sentences first, then the
// release history as a table.
func printReport(out io.Writer, r *release.Report) error {
	line := func(k, v string) { fmt.Fprintf(out, "%-11s%s\n", k+":", v) }
	line("Module", r.Module)
	line("Enabled", fmt.Sprint(r.Enabled))
	src := dash(r.Source)
	if len(r.AvailableSources) > 0 {
		src += " (offered by " + strings.Join(r.AvailableSources, ", ") + ")"
	}
	line("Source", src)
	line("Version", dash(r.Version))
	phase := dash(r.Phase)
	if !r.Ready && r.Enabled {
		phase += " (not ready)"
	}
	line("Phase", phase)
	if p := r.Policy; p != nil {
		pol := fmt.Sprintf("%s: channel %s, mode %s", p.Name, p.Channel, p.Mode)
		if p.Windows != "" {
			pol += ", windows " + p.Windows
		}
		line("Policy", pol)
	}
	if o := r.Override; o != nil {
		line("Override", fmt.Sprintf("tag %s %s %s", o.ImageTag, o.Digest, o.Message))
	}
	if r.Next != "" {
		line("Next", r.Next)
	}
	if r.NotReady != "" {
		line("Not ready", r.NotReady)
	}
	if len(r.Releases) == 0 {
		return nil
	}
	fmt.Fprintln(out)
	return output.WriteTable(out, func(tw io.Writer) error {
		output.Row(tw, "RELEASE", "PHASE", "SINCE", "MESSAGE")
		for _, rr := range r.Releases {
			since := "-"
			if rr.Since != nil {
				since = time.Since(*rr.Since).Round(time.Second).String() + " ago"
			}
			output.Row(tw, rr.Version, dash(rr.Phase), since, dash(rr.Message))
		}
		return nil
	})
}
