package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// walk calls f for c and every command under it.
func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// Every command's help has an Examples section: the runnable ones, and the
// groups (whose examples show their common verbs).
func TestEveryCommandHasExamples(t *testing.T) {
	n := 0
	walk(newRootCommand(), func(c *cobra.Command) {
		if !c.HasParent() || c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		n++
		if !strings.Contains(c.Example, "deckhand "+strings.TrimPrefix(c.CommandPath(), "deckhand ")) {
			t.Errorf("%s has no Example running it", c.CommandPath())
		}
	})
	if n < 20 {
		t.Fatalf("walked only %d commands", n)
	}
}

// cobra takes the first `backticked` word of a flag's usage as the value
// name in --help; a backticked phrase that is not a value name makes help
// such as "--layout module build". Value names are one word.
func TestFlagValueNames(t *testing.T) {
	walk(newRootCommand(), func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			name, _ := pflag.UnquoteUsage(f)
			if strings.ContainsAny(name, " \t") || strings.Contains(f.Usage, "`") && strings.ToUpper(name) != name {
				t.Errorf("%s --%s: value name %q from usage %q", c.CommandPath(), f.Name, name, f.Usage)
			}
		})
	})
}

// Every command that prints a result takes -o/--output with the same values.
func TestOutputFlagEverywhere(t *testing.T) {
	for _, path := range [][]string{
		{"module", "init"}, {"module", "lint"}, {"module", "test"}, {"module", "build"}, {"module", "push"}, {"module", "sign"},
		{"registry", "ls"}, {"registry", "tags"}, {"registry", "inspect"}, {"registry", "pull"}, {"registry", "channel"}, {"registry", "verify"},
		{"hooks", "queues"}, {"hooks", "snapshots"}, {"status"}, {"run"}, {"version"},
	} {
		c, _, err := newRootCommand().Find(path)
		if err != nil {
			t.Fatalf("%v: %v", path, err)
		}
		f := c.Flag("output")
		if f == nil || f.Shorthand != "o" || f.Value.Type() != "format" || f.DefValue != "table" {
			t.Errorf("%s: -o/--output is %+v", c.CommandPath(), f)
		}
	}
}

// The built binary exits non-zero on a mistyped subcommand at any depth,
// with cobra's message and suggestion, as at the top level.
func TestUnknownSubcommandExitCode(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"registry", "tag"}, "Error: unknown command \"tag\" for \"deckhand registry\"\n\nDid you mean this?\n\ttags\n"},
		{[]string{"hooks", "server"}, "Error: unknown command \"server\" for \"deckhand hooks\"\n\nDid you mean this?\n\tserve\n"},
		{[]string{"dev", "prepar"}, "Error: unknown command \"prepar\" for \"deckhand dev\"\n\nDid you mean this?\n\tprepare\n"},
		{[]string{"modul"}, "Error: unknown command \"modul\" for \"deckhand\"\n\nDid you mean this?\n\tmodule\n"},
	} {
		cmd := exec.Command(bin, c.args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.HasPrefix(stderr.String(), c.want) || stdout.Len() != 0 {
			t.Errorf("deckhand %v: %v\nstdout: %s\nstderr: %s", c.args, err, stdout.String(), stderr.String())
		}
	}
}
