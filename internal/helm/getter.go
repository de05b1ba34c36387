package helm

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// restGetter gives Helm's kube client one rest.Config, a discovery cache
// and a RESTMapper shared by every release operation of a Client, and the
// release namespace as the default of objects that name none.
type restGetter struct {
	cfg       *rest.Config
	namespace string

	once   sync.Once
	disc   discovery.CachedDiscoveryInterface
	mapper meta.RESTMapper
	err    error
}

func (g *restGetter) init() {
	g.once.Do(func() {
		dc, err := discovery.NewDiscoveryClientForConfig(g.cfg)
		if err != nil {
			g.err = err
			return
		}
		g.disc = memory.NewMemCacheClient(dc)
		g.mapper = restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(g.disc), g.disc, nil)
	})
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.init()
	return g.disc, g.err
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	g.init()
	return g.mapper, g.err
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return namespacedConfig{g} }

// resetMapper forgets cached discovery (a CRD was just created).
func (g *restGetter) resetMapper() {
	g.init()
	if g.disc != nil {
		g.disc.Invalidate()
	}
	if r, ok := g.mapper.(meta.ResettableRESTMapper); ok {
		r.Reset()
	}
}

// namespacedConfig is the minimal clientcmd.ClientConfig Helm's factory
// reads: the rest.Config and the default namespace.
type namespacedConfig struct{ g *restGetter }

func (c namespacedConfig) RawConfig() (clientcmdapi.Config, error) {
	return clientcmdapi.Config{}, nil
}
func (c namespacedConfig) ClientConfig() (*rest.Config, error) { return rest.CopyConfig(c.g.cfg), nil }
func (c namespacedConfig) Namespace() (string, bool, error)    { return c.g.namespace, false, nil }
func (c namespacedConfig) ConfigAccess() clientcmd.ConfigAccess {
	return clientcmd.NewDefaultClientConfigLoadingRules()
}
