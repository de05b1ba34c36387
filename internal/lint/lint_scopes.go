package lint

// clusterScopedKinds are kinds without a namespace that modules render, by
// kind name: Kubernetes' built-ins and the cluster-scoped kinds of DKP and
// the projects it ships. A module's own CRDs (crds/) are looked up first, by
// group and kind, so a module can still declare a namespaced kind of the
// same name. A kind missing here and not in crds/ counts as namespaced.
var clusterScopedKinds = stringSet(
	// Kubernetes
	"APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding",
	"ClusterTrustBundle", "ComponentStatus", "CSIDriver", "CSINode", "CustomResourceDefinition",
	"DeviceClass", "FlowSchema", "IngressClass", "IPAddress", "MutatingAdmissionPolicy",
	"MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration", "Namespace", "Node",
	"PersistentVolume", "PriorityClass", "PriorityLevelConfiguration", "RuntimeClass",
	"ServiceCIDR", "StorageClass", "StorageVersionMigration", "ValidatingAdmissionPolicy",
	"ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration", "VolumeAttachment",
	"VolumeAttributesClass",
	// snapshot.storage.k8s.io, gateway.networking.k8s.io
	"VolumeSnapshotClass", "VolumeSnapshotContent", "GatewayClass",
	// deckhouse.io: the platform, modules and releases
	"DeckhouseRelease", "Module", "ModuleConfig", "ModuleDocumentation", "ModulePullOverride",
	"ModuleRelease", "ModuleSettingsDefinition", "ModuleSource", "ModuleUpdatePolicy",
	"ObjectKeeper", "Project", "ProjectTemplate",
	// deckhouse.io: nodes
	"Instance", "NodeGroup", "NodeGroupConfiguration", "NodeUser", "SSHCredentials", "StaticInstance",
	"KubeSchedulerWebhookConfiguration",
	"AWSInstanceClass", "AzureInstanceClass", "DVPInstanceClass", "DynamixInstanceClass",
	"GCPInstanceClass", "HuaweiCloudInstanceClass", "OpenStackInstanceClass",
	"VCDInstanceClass", "VsphereInstanceClass", "YandexInstanceClass", "ZvirtInstanceClass",
	// deckhouse.io: access, authentication, policies
	"ClusterAuthorizationRule", "DexProvider", "Group", "User", "OperationPolicy", "SecurityPolicy",
	// deckhouse.io: monitoring and logging
	"ClusterLogDestination", "ClusterLoggingConfig", "ClusterObservabilityDashboard",
	"ClusterObservabilityMetricsRulesGroup", "CustomAlertmanager", "CustomPrometheusRules",
	"GrafanaAdditionalDatasource", "GrafanaAlertsChannel", "GrafanaDashboardDefinition",
	"PrometheusRemoteWrite", "UpmeterRemoteWrite",
	// deckhouse.io: networking
	"EgressGateway", "EgressGatewayPolicy", "IngressNginxController", "KeepalivedInstance",
	"MetalLoadBalancerClass",
	// storage.deckhouse.io
	"BlockDevice", "CephClusterAuthentication", "CephClusterConnection", "CephStorageClass",
	"LocalStorageClass", "LVMLogicalVolume", "LVMVolumeGroup", "NFSStorageClass",
	"ReplicatedStorageClass", "ReplicatedStoragePool",
	// cert-manager, kyverno, gatekeeper, cilium
	"ClusterIssuer", "ClusterPolicy", "ConstraintTemplate", "CiliumClusterwideNetworkPolicy",
	"CiliumEgressGatewayPolicy",
)

func stringSet(items ...string) map[string]bool {
	out := make(map[string]bool, len(items))
	for _, k := range items {
		out[k] = true
	}
	return out
}
