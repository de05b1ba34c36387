package localenv

import (
	"runtime/debug"
	"strings"
)

// fallbackKubernetesVersion is used only when build information is missing
// (for example a binary built with -trimpath and stripped module data).
const fallbackKubernetesVersion = "v1.37.2"

// KubernetesVersion is the Kubernetes release that matches the client-go this
// binary was built with: client-go v0.X.Y pairs with Kubernetes v1.X.Y. Keeping
// the two in step means tests run against the server the client was made for.
func KubernetesVersion() string {
	if v := ClientGoVersion(); strings.HasPrefix(v, "v0.") {
		return "v1." + strings.TrimPrefix(v, "v0.")
	}
	return fallbackKubernetesVersion
}

// ClientGoVersion is the k8s.io/client-go module version in this binary's
// build information, or "" when it is unknown.
func ClientGoVersion() string {
	return ModuleVersion("k8s.io/client-go")
}

// ModuleVersion returns the version of a dependency recorded in the build
// information, or "" when it is not there.
func ModuleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			if dep.Replace != nil {
				return dep.Replace.Version
			}
			return dep.Version
		}
	}
	return ""
}
