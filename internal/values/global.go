package values

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/ettle/strcase"
)

// StubGlobal returns global values good enough to render a module offline,
// shaped like the ones DKP provides (and like dmt's render stubs): the module
// registry, cluster domain and Kubernetes version. Callers pass it as
// Input.Global when there is no cluster to read the real ones from.
func StubGlobal(kubernetesVersion string) map[string]any {
	return map[string]any{
		"clusterIsBootstrapped":      true,
		"defaultClusterStorageClass": "",
		"clusterConfiguration": map[string]any{
			"clusterDomain":     "cluster.local",
			"clusterType":       "Static",
			"kubernetesVersion": kubernetesVersion,
			"podSubnetCIDR":     "10.111.0.0/16",
			"serviceSubnetCIDR": "10.222.0.0/16",
			"proxy":             map[string]any{},
		},
		"discovery": map[string]any{
			"clusterDomain":                        "cluster.local",
			"kubernetesVersion":                    kubernetesVersion,
			"d8SpecificNodeCountByRole":            map[string]any{},
			"clusterControlPlaneIsHighlyAvailable": false,
			"clusterMasterCount":                   1,
			"prometheusScrapeInterval":             30,
			"defaultStorageClass":                  "",
			"apiVersions":                          []any{},
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
			"ingressClass":         "nginx",
			"https":                map[string]any{"mode": "Disabled"},
			"placement":            map[string]any{},
		},
		"highAvailability": false,
		"internal": map[string]any{
			"modules": map[string]any{
				"kubeRBACProxyCA":          map[string]any{"cert": "stub-ca-cert", "key": "stub-ca-key"},
				"admissionWebhookClientCA": map[string]any{"cert": "stub-ca-cert", "key": "stub-ca-key"},
			},
		},
	}
}

// commonImages are the images of DKP's common module (modules/000-common/
// images) that modules use through lib-helm's helm_lib_module_common_image,
// which reads global.modulesImages.digests.common. They are not in the module
// being rendered, so an offline render needs them all: the list is generous
// on purpose (a missing name fails the render, an extra one costs nothing).
var commonImages = []string{
	"alpine", "alt-p11", "candi", "check-kernel-version", "cni-migration-controller",
	"cni-migration-init-checker", "container", "coredns", "crane", "csi-external-attacher",
	"csi-external-provisioner", "csi-external-resizer", "csi-external-snapshotter",
	"csi-livenessprobe", "csi-node-driver-registrar", "csi-vsphere-syncer", "debug-container",
	"distroless", "init", "iptables-wrapper", "iptables-wrapper-init", "kube-rbac-proxy",
	"kubernetes", "nginx-static", "pause", "promtool", "promu", "redis-static", "relocate",
	"shell-operator", "src-artifact", "task", "vxlan-offloading-fixer", "wheel-artifact",
}

// commonImageDigests keys each common image by its camelCase name (how DKP's
// build keys digests and templates ask for them: "kubeRbacProxy") and by its
// directory name.
func commonImageDigests() map[string]any {
	out := make(map[string]any, 2*len(commonImages))
	for _, name := range commonImages {
		out[strcase.ToCamel(name)] = FakeDigest("common", strcase.ToCamel(name))
		out[name] = FakeDigest("common", name)
	}
	return out
}

// FakeDigest is the placeholder digest of an image in offline renders:
// well-formed and stable, derived from the module key and image name.
func FakeDigest(moduleKey, image string) string {
	sum := sha256.Sum256([]byte(moduleKey + "/" + image))
	return "sha256:" + hex.EncodeToString(sum[:])
}
