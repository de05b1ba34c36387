package localenv

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Env is a control plane and a registry started together, as `deckhand dev` runs them.
type Env struct {
	ControlPlane *ControlPlane
	Registry     *Registry
}

// Options tune Start; the zero value starts everything with defaults.
type Options struct {
	ControlPlane ControlPlaneOptions
	Registry     DockerRegistryOptions
	// InProcessRegistry serves go-containerregistry's registry instead of
	// docker-registry (no package needed, data kept in memory).
	InProcessRegistry bool
}

// Start brings up the control plane and the registry; on error nothing is left running.
func Start(ctx context.Context, opts Options) (*Env, error) {
	cp, err := StartControlPlane(ctx, opts.ControlPlane)
	if err != nil {
		return nil, err
	}
	var reg *Registry
	if opts.InProcessRegistry {
		reg = StartInProcessRegistry()
	} else if reg, err = StartDockerRegistry(ctx, opts.Registry); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	if p := opts.ControlPlane.Progress; p != nil && p != io.Discard {
		fmt.Fprintf(p, "registry (%s) up at %s\n", reg.Kind, reg.Addr)
	}
	return &Env{ControlPlane: cp, Registry: reg}, nil
}

// Stop stops the registry, then the control plane, and reports both errors.
func (e *Env) Stop() error {
	return errors.Join(e.Registry.Stop(), e.ControlPlane.Stop())
}
