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

// A second `deckhand dev` on the same kubeconfig path is refused, naming
// the running one, instead of overwriting its kubeconfig.
func TestDevStateLock(t *testing.T) {
	kc := t.TempDir() + "/dev/kubeconfig"
	unlock, err := lockDevState(kc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDevState(kc); err == nil || !strings.Contains(err.Error(), "another deckhand dev") || !strings.Contains(err.Error(), "--kubeconfig-out") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := lockDevState(kc)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}
