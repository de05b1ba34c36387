// Command sidebyside measures deckhand's hook runtime (`deckhand hooks
// serve`) beside shell-operator, in one run, on one real kube-apiserver
// (internal/localenv), with the same ConfigMaps, the same bash + jq hook and
// the same updates (issue 4). Issue 4 quotes shell-operator's figures from
// another machine; running both binaries here, one after the other and
// alternating, makes the comparison one of ratios on the same load rather
// than of absolute numbers across machines.
//
// For each runtime it reports the process's resident memory (VmRSS after
// Synchronization, again after 10 s idle, and the peak VmHWM), the time
// from exec to the hook's Synchronization run, and the latency from each
// update request being sent to the start of the hook run that received it.
//
// It only runs binaries (shell-operator is built from its public source by
// the person running this); it imports deckhand's localenv and output
// packages and nothing of the hook runtime itself, so both runtimes are
// measured the same way, from outside.
//
//	go run ./bench/sidebyside --shell-operator /tmp/so/bin/shell-operator [--objects 10000 --updates 1000 --rate 50] [-o json]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	shellOperator string
	deckhand      string
	objects       int
	updates       int
	rate          float64
	rounds        int
	idle          time.Duration
	timeout       time.Duration
	output        string
	keep          bool
	jsonFile      string
}

func main() {
	var o options
	flag.StringVar(&o.shellOperator, "shell-operator", "", "shell-operator binary (required)")
	flag.StringVar(&o.deckhand, "deckhand", "", "deckhand binary (default: go build ./cmd/deckhand into a temp dir)")
	flag.IntVar(&o.objects, "objects", 10000, "ConfigMaps to create and watch")
	flag.IntVar(&o.updates, "updates", 1000, "updates to send, each on a different ConfigMap")
	flag.Float64Var(&o.rate, "rate", 50, "updates per second")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds; each measures deckhand, then shell-operator")
	flag.DurationVar(&o.idle, "idle", 10*time.Second, "idle time after Synchronization before the second RSS reading")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for Synchronization, and for all updates' hook runs")
	flag.StringVar(&o.output, "o", "table", "output format: table|json|yaml")
	flag.StringVar(&o.jsonFile, "json-file", "", "also write the report as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (runtimes' logs, hook, records) and print its path")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}

func (o options) validate() error {
	switch {
	case o.shellOperator == "":
		return errors.New("--shell-operator: the path of a shell-operator binary is required")
	case o.objects < 1:
		return fmt.Errorf("--objects %d: want at least 1", o.objects)
	case o.updates < 1 || o.updates > o.objects:
		return fmt.Errorf("--updates %d: want 1 to --objects (%d), one ConfigMap per update", o.updates, o.objects)
	case o.rate <= 0:
		return fmt.Errorf("--rate %v: want more than 0", o.rate)
	case o.rounds < 1:
		return fmt.Errorf("--rounds %d: want at least 1", o.rounds)
	}
	if _, err := os.Stat(o.shellOperator); err != nil {
		return fmt.Errorf("--shell-operator: %w", err)
	}
	return nil
}
