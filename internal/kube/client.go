package kube

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Client QPS and burst. client-go's defaults (5 QPS, burst 10) would make a
// hook that patches a hundred objects, or a module with a dozen bindings
// starting their watches, wait seconds on a client-side token bucket. The API
// server protects itself with API Priority and Fairness, so deckhand sets the
// client limits high and lets the server do the fairness.
const (
	clientQPS   = 500
	clientBurst = 1000
)

// Client is what monitors and the patcher share: a dynamic client and a
// discovery-backed RESTMapper that resolves kinds, plurals and short names.
type Client struct {
	dynamic  dynamic.Interface
	deferred *restmapper.DeferredDiscoveryRESTMapper
	mapper   meta.RESTMapper
	// protobuf picks the wire format of built-in kinds (see protobuf.go).
	protobuf *protobufWire
}

// Resource is a resolved kind: the resource to call and whether it is
// namespaced.
type Resource struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
}

// NewClient builds a Client from cfg, with the rate limits raised (see
// clientQPS). cfg itself is not modified.
func NewClient(cfg *rest.Config) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = clientQPS
	cfg.Burst = clientBurst
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating HTTP client: %w", err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("creating dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("creating discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	deferred := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	return &Client{
		dynamic:  dyn,
		deferred: deferred,
		mapper:   restmapper.NewShortcutExpander(deferred, cached, func(string) {}),
		protobuf: newProtobufWire(cfg, httpClient, dc),
	}, nil
}

// Dynamic returns the dynamic client.
func (c *Client) Dynamic() dynamic.Interface { return c.dynamic }

// Resolve finds the resource for kind, which may be a kind, a plural or a
// short name in any case ("ConfigMap", "configmaps", "cm"). apiVersion
// ("group/version" or "version") narrows the search; empty means the
// preferred version. A kind unknown to the cached discovery data triggers one
// refresh, so CRDs created after the client are found.
func (c *Client) Resolve(apiVersion, kind string) (Resource, error) {
	r, err := c.resolve(apiVersion, kind)
	if meta.IsNoMatchError(err) {
		c.deferred.Reset()
		r, err = c.resolve(apiVersion, kind)
	}
	if err != nil {
		return Resource{}, fmt.Errorf("resolving kind %q (apiVersion %q) through discovery: %w", kind, apiVersion, err)
	}
	return r, nil
}

func (c *Client) resolve(apiVersion, kind string) (Resource, error) {
	if kind == "" {
		return Resource{}, fmt.Errorf("kind is empty")
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return Resource{}, fmt.Errorf("apiVersion: %w", err)
	}
	// ResourceFor lower-cases and matches plural and singular (lower-case
	// kind) names; the shortcut expander adds short names.
	gvr, err := c.mapper.ResourceFor(gv.WithResource(strings.ToLower(kind)))
	if err != nil {
		return Resource{}, err
	}
	gvk, err := c.mapper.KindFor(gvr)
	if err != nil {
		return Resource{}, err
	}
	mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return Resource{}, err
	}
	return Resource{
		GVR:        mapping.Resource,
		Kind:       gvk.Kind,
		Namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace,
	}, nil
}

// resourceClient returns the client for r in namespace ns (ignored for
// cluster-scoped resources; "" means all namespaces).
func (c *Client) resourceClient(r Resource, ns string) dynamic.ResourceInterface {
	if r.Namespaced && ns != "" {
		return c.dynamic.Resource(r.GVR).Namespace(ns)
	}
	return c.dynamic.Resource(r.GVR)
}
