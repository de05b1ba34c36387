package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/api/crds"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// operatorReplica is one `deckhand operator` process.
type operatorReplica struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
}

func startOperatorReplica(t *testing.T, bin, ns, downloaded string) *operatorReplica {
	t.Helper()
	cmd := exec.Command(bin, "operator", "--leader-elect", "-n", ns,
		"--kubeconfig", testenv.ControlPlane(t).KubeconfigPath,
		"--downloaded-dir", downloaded, "--scan-interval", "1s",
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--install-crds=false")
	r := &operatorReplica{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- cmd.Wait() }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *operatorReplica) stop(t *testing.T) {
	if r.cmd.ProcessState != nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		t.Errorf("operator did not stop on SIGTERM\n%s", r.stderr.String())
	}
}

func (r *operatorReplica) leading() bool {
	return strings.Contains(r.stderr.String(), "leading: running modules")
}

// Two replicas never both act, and a leader killed with SIGKILL in the
// middle of a deploy leaves a state the next leader finishes consistently:
// one Deployed release, the module serving it.
func TestOperatorLeaderKilledMidDeploy(t *testing.T) {
	bin := testenv.DeckhandBinary(t)
	cp := testenv.ControlPlane(t)
	reg := testenv.DockerRegistry(t)
	ns := testenv.Namespace(t, cp.Config, "opkill")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := crds.Install(ctx, cp.Config); err != nil {
		t.Fatal(err)
	}
	source := reg.Addr + "/" + ns + "/modules"
	mod := testenv.ModuleName("killme", ns)
	work := t.TempDir()
	publish := func(version string, hook string) {
		t.Helper()
		dir := filepath.Join(work, version)
		files := map[string]string{
			mod + "/module.yaml": "name: " + mod + "\nweight: 100\n",
			mod + "/Chart.yaml":  "apiVersion: v2\nname: " + mod + "\nversion: 0.1.0\n",
			mod + "/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + mod + "\n  namespace: " + ns +
				"\ndata:\n  version: \"" + version + "\"\n",
		}
		if hook != "" {
			files[mod+"/hooks/slow.sh"] = hook
		}
		testenv.WriteFiles(t, dir, files)
		if _, err := registry.PublishDir(ctx, dir, source, version, "stable"); err != nil {
			t.Fatal(err)
		}
	}
	kube, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	serving := func() string {
		cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, mod, metav1.GetOptions{})
		if err != nil {
			return ""
		}
		return cm.Data["version"]
	}
	releases := schema.GroupVersionResource{Group: "deckhouse.io", Version: "v1alpha1", Resource: "modulereleases"}
	phases := func() map[string]string {
		out := map[string]string{}
		list, err := dyn.Resource(releases).List(ctx, metav1.ListOptions{LabelSelector: "module=" + mod})
		if err != nil {
			return out
		}
		for _, it := range list.Items {
			p, _, _ := unstructured.NestedString(it.Object, "status", "phase")
			out[it.GetName()] = p
		}
		return out
	}

	publish("v1.0.0", "")
	dirA, dirB := filepath.Join(work, "a"), filepath.Join(work, "b")
	a := startOperatorReplica(t, bin, ns, dirA)
	b := startOperatorReplica(t, bin, ns, dirB)
	testenv.Apply(t, cp.Config, `apiVersion: deckhouse.io/v1alpha1
kind: ModuleSource
metadata: {name: `+ns+`}
spec: {registry: {repo: `+source+`, scheme: HTTP}}
---
apiVersion: deckhouse.io/v1alpha1
kind: ModuleConfig
metadata: {name: `+mod+`}
spec: {enabled: true}
`)
	testenv.WaitFor(t, 2*time.Minute, "v1.0.0 serving", func() (bool, string) { return serving() == "v1.0.0", serving() })
	if a.leading() == b.leading() {
		t.Fatalf("leading: a=%v b=%v\n--- a:\n%s\n--- b:\n%s", a.leading(), b.leading(), a.stderr.String(), b.stderr.String())
	}
	leader, leaderDir, standby, standbyDir := a, dirA, b, dirB
	if b.leading() {
		leader, leaderDir, standby, standbyDir = b, dirB, a, dirA
	}
	if entries, _ := os.ReadDir(standbyDir); len(entries) > 0 {
		t.Fatalf("the standby downloaded modules: %v", entries)
	}

	// v1.1.0's hook takes long enough to kill the leader inside the deploy.
	started := filepath.Join(work, "hook-started")
	publish("v1.1.0", "#!/bin/bash\nif [[ $1 == --config ]]; then echo '{\"configVersion\":\"v1\",\"beforeHelm\":1}'; exit 0; fi\ntouch "+started+"\nsleep 3\n")
	testenv.WaitFor(t, 2*time.Minute, "the leader inside the v1.1.0 deploy", func() (bool, string) {
		_, err := os.Stat(started)
		return err == nil, serving()
	})
	if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-leader.exited
	restarted := startOperatorReplica(t, bin, ns, leaderDir)

	testenv.WaitFor(t, 3*time.Minute, "v1.1.0 deployed by the next leader", func() (bool, string) {
		p := phases()
		return serving() == "v1.1.0" && p[mod+"-v1.1.0"] == "Deployed" && p[mod+"-v1.0.0"] == "Superseded", serving() + " " + fmtMap(p)
	})
	if standby.leading() == restarted.leading() {
		t.Fatalf("after the kill: standby leading=%v, restarted leading=%v", standby.leading(), restarted.leading())
	}
	deployed := 0
	for _, p := range phases() {
		if p == "Deployed" {
			deployed++
		}
	}
	if deployed != 1 {
		t.Fatalf("%d Deployed releases: %v", deployed, phases())
	}

	// `registry ls --channel` shows what the operator sees in the source.
	var ls struct {
		Modules []struct{ Name, Version, Checksum string }
	}
	decode(t, mustRun(t, "registry", "ls", source, "--channel", "stable", "-o", "json"), &ls)
	sources := schema.GroupVersionResource{Group: "deckhouse.io", Version: "v1alpha1", Resource: "modulesources"}
	testenv.WaitFor(t, time.Minute, "the operator's view equal to registry ls", func() (bool, string) {
		u, err := dyn.Resource(sources).Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		mods, _, _ := unstructured.NestedSlice(u.Object, "status", "modules")
		if len(mods) != 1 || len(ls.Modules) != 1 {
			return false, fmt.Sprint(mods, ls.Modules)
		}
		m := mods[0].(map[string]any)
		return m["version"] == ls.Modules[0].Version && m["checksum"] == ls.Modules[0].Checksum && ls.Modules[0].Version == "v1.1.0", fmt.Sprint(m, ls.Modules)
	})
}

func fmtMap(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}
