package registry_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/module"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// forEachRegistry runs f against the in-process registry and Docker Registry v2.
// source is a module source repository unique to the subtest.
func forEachRegistry(t *testing.T, f func(t *testing.T, source string)) {
	t.Helper()
	t.Run("in-process", func(t *testing.T) {
		r := testenv.Registry(t)
		f(t, r.Addr+"/acme/modules")
	})
	t.Run("docker-registry", func(t *testing.T) {
		r := testenv.DockerRegistry(t)
		f(t, r.Addr+"/"+strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))+"/modules")
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func newClient(t *testing.T, opts ...registry.Option) *registry.Client {
	t.Helper()
	c, err := registry.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// moduleFiles is a small module: files that go into the bundle image, and
// build-only files that must stay out of it.
var (
	bundleFiles = map[string]string{
		"module.yaml":                        "name: hello\nweight: 900\ndescriptions:\n  en: Says hello.\n",
		"Chart.yaml":                         "name: hello\nversion: 0.1.0\n",
		".helmignore":                        "crds\nimages\nhooks\nopenapi\n",
		"values.yaml":                        "{}\n",
		"templates/deployment.yaml":          "kind: Deployment\n",
		"templates/_helpers.tpl":             "{{/* helpers */}}\n",
		"openapi/config-values.yaml":         "type: object\n",
		"openapi/values.yaml":                "type: object\n",
		"crds/hello.yaml":                    "kind: CustomResourceDefinition\n",
		"hooks/startup.sh":                   "#!/bin/bash\necho ok\n",
		"docs/README.md":                     "# Hello\n",
		"docs/images/diagram.svg":            "<svg/>\n",
		"charts/deckhouse_lib_helm.tgz":      "not really a tgz\n",
		"monitoring/prometheus-rules/a.yaml": "- alert: X\n",
	}
	buildOnlyFiles = map[string]string{
		"images/hello/Dockerfile":  "FROM scratch\n",
		"werf.yaml":                "project: hello\n",
		".werf/stages/bundle.yaml": "image: bundle\n",
		"oss.yaml":                 "- id: x\n",
		"hooks/batch/main.go":      "package main\n",
		"docs/internal/NOTES.md":   "internal\n",
		"CHANGELOG/v1.2.3.yml":     "features:\n  - says hello\n",
	}
)

// writeModule writes the test module into a new dir named "hello".
func writeModule(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	testenv.WriteFiles(t, dir, bundleFiles)
	testenv.WriteFiles(t, dir, buildOnlyFiles)
	return dir
}

// readTree returns path -> content (with "x:" prefixed for executables) of
// the files under dir, read through symlinks (unpack keeps safe ones), unlike
// testenv.ReadFiles.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		prefix := ""
		if fi.Mode()&0o111 != 0 {
			prefix = "x:"
		}
		out[filepath.ToSlash(rel)] = prefix + string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// expectedBundle is the tree a pull of the test module at version gives.
func expectedBundle(version, digests string) map[string]string {
	out := map[string]string{}
	for k, v := range bundleFiles {
		if strings.HasSuffix(k, ".sh") {
			v = "x:" + v
		}
		out[k] = v
	}
	out["version.json"] = `{"version":"` + version + `"}`
	out["images_digests.json"] = digests
	return out
}

// loadModule loads a module directory for registry.Build.
func loadModule(t testing.TB, dir string) *module.Module {
	t.Helper()
	m, err := module.Load(dir)
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	return m
}
