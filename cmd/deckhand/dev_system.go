package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/operator"
	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/release"
)

// devServeTimeout bounds the wait for the modules to serve after start.
const devServeTimeout = 8 * time.Minute

// runDevSystem applies the dev source, policy and ModuleConfigs, runs the
// operator in this process and prints a summary once the modules serve;
// with --exit-when-ready it stops there, else it runs until ctx ends,
// re-publishing --module directories when they change.
func runDevSystem(ctx context.Context, cfg *rest.Config, source string, modules []string, o devOptions, out, progress io.Writer) error {
	if err := installRuntimeCRDs(ctx, cfg); err != nil {
		if ctx.Err() != nil {
			return nil // Ctrl-C while starting
		}
		return err
	}
	c, err := operator.NewClient(cfg)
	if err != nil {
		return err
	}
	if err := operator.ApplyDev(ctx, c, operator.DevSource{Name: "local", Repo: source, Channel: channelCR(o.channel), Modules: modules, PublicKey: o.publicKey}); err != nil {
		return fmt.Errorf("applying the dev ModuleSource, ModuleUpdatePolicy and ModuleConfigs: %w", err)
	}
	downloaded := filepath.Join(filepath.Dir(o.kubeconfig), "downloaded")
	// The control plane starts empty: versions left from an earlier run
	// belong to releases that no longer exist.
	if err := os.RemoveAll(downloaded); err != nil {
		return err
	}
	opCtx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		errc <- operator.Run(opCtx, operator.Options{
			RestConfig: cfg, DownloadedDir: downloaded, Namespace: o.namespace, ConfigMap: "-",
			MetricsAddr: "0", ProbeAddr: "0", ScanInterval: 2 * time.Second,
			Logger: slog.New(slog.NewTextHandler(progress, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
	}()
	fmt.Fprintf(progress, "running the operator on source %s: waiting for %s to serve\n", source, strings.Join(modules, ", "))
	reps, waitErr := operator.WaitServing(ctx, c, modules, devServeTimeout)
	if ctx.Err() == nil {
		if err := printDevSummary(out, reps); err != nil {
			return err
		}
	}
	if o.exitWhenReady {
		stop()
		<-errc
		return waitErr
	}
	if waitErr != nil && ctx.Err() == nil {
		fmt.Fprintf(progress, "warning: %v\n", waitErr)
	}
	fmt.Fprintln(progress, "ready; try: kubectl get modules,modulereleases,modulesources; deckhand status. Press Ctrl-C to stop")
	for _, dir := range o.devModules {
		go watchDevModule(opCtx, c, dir, source, o, progress)
	}
	select {
	case <-ctx.Done():
		stop()
		<-errc
		return nil
	case err := <-errc:
		return err
	}
}

func printDevSummary(out io.Writer, reps []*release.Report) error {
	return output.Print(out, "table", reps, func(w io.Writer) error {
		output.Row(w, "MODULE", "SOURCE", "VERSION", "RELEASE", "PHASE", "READY")
		for _, r := range reps {
			rel := "-"
			for _, rr := range r.Releases {
				if rr.Version == r.Version {
					rel = rr.Phase
				}
			}
			output.Row(w, r.Module, dash(r.Source), dash(r.Version), rel, dash(r.Phase), r.Ready)
		}
		return nil
	})
}

// channelCR turns a channel tag into its CR value ("early-access" -> "EarlyAccess").
func channelCR(tag string) string {
	parts := strings.Split(tag, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
