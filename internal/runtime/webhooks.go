package runtime

import (
	"context"
	"sync"

	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/webhook"
)

// newWebhooks makes the webhook servers of Options.Webhooks, run by the
// runtime's engine: module hooks' admission and conversion bindings join
// them when the module's hooks load and leave when they unload.
func (r *Runtime) newWebhooks() error {
	if len(r.opts.Webhooks) == 0 {
		return nil
	}
	ac, err := apiextensionsclient.NewForConfig(r.opts.RestConfig)
	if err != nil {
		return err
	}
	for _, o := range r.opts.Webhooks {
		o.Runner, o.Kube, o.APIExt = r.engine, r.kube, ac
		if o.Logger == nil {
			o.Logger = r.log
		}
		if o.Metrics == nil {
			o.Metrics = r.opts.Registry
		}
		ws, err := webhook.New(o)
		if err != nil {
			return err
		}
		r.webhooks = append(r.webhooks, ws)
	}
	for _, v := range r.opts.Validators {
		r.webhooks[0].AddValidator(v)
	}
	return nil
}

// runWebhooks serves until ctx ends.
func (r *Runtime) runWebhooks(ctx context.Context, wg *sync.WaitGroup) {
	for _, ws := range r.webhooks {
		wg.Go(func() {
			if err := ws.Run(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("webhook server failed", "error", err)
			}
		})
	}
}

func (r *Runtime) webhooksAdd(hooks []*engine.Hook) {
	for _, ws := range r.webhooks {
		ws.Add(hooks...)
	}
}

func (r *Runtime) webhooksRemove(names []string) {
	for _, ws := range r.webhooks {
		ws.Remove(names...)
	}
}

// CheckSettings says whether a module would take these settings (at the
// given settings version): converted up its chain and validated against
// its schema and rules, as a ModuleConfig change is, without taking them.
// known is false for a module the runtime does not run.
func (r *Runtime) CheckSettings(name string, settings map[string]any, version int) (known bool, err error) {
	s := r.module(name)
	if s == nil || s.broken {
		return false, nil
	}
	return true, s.vals.checkConfig(settings, version)
}
