package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

// devSigningKey returns the key `deckhand dev` signs with, generated once
// next to its kubeconfig (signing.key, signing.pub) and kept across runs.
func devSigningKey(stateDir string) (*registry.SigningKey, []byte, error) {
	privPath, pubPath := filepath.Join(stateDir, "signing.key"), filepath.Join(stateDir, "signing.pub")
	priv, err := os.ReadFile(privPath)
	pub, perr := os.ReadFile(pubPath)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(perr, fs.ErrNotExist) {
		if priv, pub, err = registry.GenerateSigningKey(); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(privPath, priv, 0o600); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
			return nil, nil, err
		}
	} else if err != nil {
		return nil, nil, err
	} else if perr != nil {
		return nil, nil, perr
	}
	k, err := registry.LoadSigningKey(priv, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", privPath, err)
	}
	return k, pub, nil
}
