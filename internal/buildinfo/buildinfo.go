// Package buildinfo reports what a deckhand binary was built from: its own
// version and commit, the Go toolchain and the Kubernetes libraries inside.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Version and Commit are set with -ldflags "-X ...buildinfo.Version=v1.2.3";
// when empty they are read from the Go build information.
var (
	Version = ""
	Commit  = ""
)

// Info is the result of `deckhand version`.
type Info struct {
	Version           string            `json:"version"`
	Commit            string            `json:"commit"`
	Modified          bool              `json:"modified,omitempty"`
	GoVersion         string            `json:"goVersion"`
	Platform          string            `json:"platform"`
	KubernetesVersion string            `json:"kubernetesVersion"`
	Libraries         map[string]string `json:"libraries"`
}

// libraries are the dependencies whose versions users ask about.
var libraries = []string{
	"k8s.io/client-go",
	"k8s.io/apimachinery",
	"sigs.k8s.io/controller-runtime",
	"helm.sh/helm/v4",
	"github.com/google/go-containerregistry",
	"github.com/itchyny/gojq",
}

// Get collects the build information of the running binary.
func Get() Info {
	info := Info{
		Version:   Version,
		Commit:    Commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		Libraries: map[string]string{},
	}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
		for _, dep := range bi.Deps {
			for _, lib := range libraries {
				if dep.Path == lib {
					info.Libraries[lib] = dep.Version
				}
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if v := info.Libraries["k8s.io/client-go"]; strings.HasPrefix(v, "v0.") {
		info.KubernetesVersion = "v1." + strings.TrimPrefix(v, "v0.")
	}
	return info
}
