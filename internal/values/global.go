package values

import (
	"crypto/sha256"
	"encoding/hex"
)

// StubGlobal returns global values good enough to render a module offline,
// shaped like the ones DKP provides (and like dmt's render stubs): the module
// registry, cluster domain and Kubernetes version. Callers pass it as
// Input.Global when there is no cluster to read the real ones from.
func StubGlobal(kubernetesVersion string) map[string]any {
	return map[string]any{
		"clusterConfiguration": map[string]any{
			"clusterDomain":     "cluster.local",
			"kubernetesVersion": kubernetesVersion,
		},
		"discovery": map[string]any{
			"clusterDomain":             "cluster.local",
			"kubernetesVersion":         kubernetesVersion,
			"d8SpecificNodeCountByRole": map[string]any{},
		},
		"modulesImages": map[string]any{
			"registry": map[string]any{
				"base":      "registry.example.com/modules",
				"dockercfg": "",
				"scheme":    "https",
			},
			"digests": map[string]any{"common": commonImageDigests()},
			"tags":    map[string]any{},
		},
		"modules": map[string]any{
			"publicDomainTemplate": "%s.example.com",
			"https":                map[string]any{"mode": "Disabled"},
			"placement":            map[string]any{},
		},
		"highAvailability": false,
		"internal": map[string]any{
			"modules": map[string]any{
				"kubeRBACProxyCA": map[string]any{"cert": "stub-ca-cert", "key": "stub-ca-key"},
			},
		},
	}
}

// commonImages are images DKP ships for every module (lib-helm's
// helm_lib_module_common_image reads global.modulesImages.digests.common).
var commonImages = []string{"alpine", "checkKernelVersion", "distroless", "init", "iptablesWrapperInit", "kubeRbacProxy", "pause", "shellOperator", "vxlanOffloadingFixer"}

func commonImageDigests() map[string]any {
	out := make(map[string]any, len(commonImages))
	for _, name := range commonImages {
		sum := sha256.Sum256([]byte("common/" + name))
		out[name] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}
