package main

import (
	"bytes"
	"strings"
	"testing"
)

// A mistyped subcommand under a group fails with a suggestion; the bare
// group still prints its help.
func TestUnknownSubcommandFails(t *testing.T) {
	for _, c := range []struct {
		args    []string
		suggest string
	}{
		{[]string{"registry", "tag"}, "tags"},
		{[]string{"hooks", "server"}, "serve"},
		{[]string{"module", "lnt"}, "lint"},
	} {
		root := newRootCommand()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(c.args)
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), "unknown command") || !strings.Contains(err.Error(), c.suggest) {
			t.Errorf("%v: err = %v", c.args, err)
		}
	}
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"registry"})
	if err := root.Execute(); err != nil || !strings.Contains(out.String(), "Available Commands") {
		t.Fatalf("bare group: %v\n%s", err, out.String())
	}
}
