package hookserver

import (
	"context"
	"sync"

	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// runWebhooks serves the hooks' admission and conversion bindings with
// the engine that runs the queued hooks (so both see the same snapshots),
// one server per Options.Webhooks entry that has bindings to serve, until
// ctx ends. A server that cannot start marks the server failed.
func (s *Server) runWebhooks(ctx context.Context, wg *sync.WaitGroup, e *engine.Engine, hooks []*engine.Hook) {
	if len(s.opts.Webhooks) == 0 {
		return
	}
	kc, err := kubernetes.NewForConfig(s.opts.RestConfig)
	if err != nil {
		s.setState(stateFailed, err)
		return
	}
	ac, err := apiextensionsclient.NewForConfig(s.opts.RestConfig)
	if err != nil {
		s.setState(stateFailed, err)
		return
	}
	for _, o := range s.opts.Webhooks {
		o.Runner, o.Kube, o.APIExt, o.Logger = e, kc, ac, s.log
		if o.Metrics == nil {
			o.Metrics = s.registry
		}
		ws, err := webhook.New(o)
		if err != nil {
			s.log.Error("webhook server", "error", err)
			s.setState(stateFailed, err)
			return
		}
		ws.Add(hooks...)
		if !ws.HasWebhooks() {
			continue
		}
		wg.Go(func() {
			if err := ws.Run(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("webhook server failed", "address", o.ListenAddress, "error", err)
				s.setState(stateFailed, err)
			}
		})
	}
}
