package values

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
			"digests": map[string]any{},
			"tags":    map[string]any{},
		},
		"modules": map[string]any{
			"publicDomainTemplate": "%s.example.com",
			"https":                map[string]any{"mode": "Disabled"},
			"placement":            map[string]any{},
		},
		"highAvailability": false,
	}
}
