package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/registry"
)

// loadSigningKeyFile reads a private key file; an encrypted cosign key is
// decrypted with $COSIGN_PASSWORD, as cosign does.
func loadSigningKeyFile(path string) (*registry.SigningKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--key: %w", err)
	}
	k, err := registry.LoadSigningKey(data, []byte(os.Getenv("COSIGN_PASSWORD")))
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", path, err)
	}
	return k, nil
}

func loadVerifyKeyFiles(paths []string) ([]registry.VerifyKey, error) {
	var out []registry.VerifyKey
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		keys, err := registry.LoadVerifyKeys(data)
		if err != nil {
			return nil, fmt.Errorf("--key %s: %w", p, err)
		}
		out = append(out, keys...)
	}
	return out, nil
}

func printSignatures(w io.Writer, format string, res *registry.VerifyResult) error {
	return output.Print(w, format, res, func(tw io.Writer) error {
		output.Row(tw, "IMAGE", "DIGEST", "SIGNED BY")
		for _, s := range []*registry.SignatureResult{res.Bundle, res.Release} {
			if s == nil {
				continue
			}
			by := s.KeyID
			if len(s.SignedBy) > 0 {
				by = fmt.Sprint(s.SignedBy)
			}
			output.Row(tw, s.Image, s.Digest, by)
		}
		return nil
	})
}

func newModuleSignCommand() *cobra.Command {
	var (
		f   registryFlags
		key string
	)
	cmd := &cobra.Command{
		Use:   "sign SOURCE MODULE VERSION",
		Short: "Sign a published version (module image and release image), cosign-compatible",
		Long: `Signs SOURCE/MODULE:VERSION and SOURCE/MODULE/release:VERSION with --key, in cosign's layout (the
signature image sha256-<digest>.sig next to each), for artifacts pushed by other tools.
` + "`cosign verify --key`" + ` and ` + "`deckhand registry verify`" + ` read the signatures. --key is a cosign key
(encrypted with $COSIGN_PASSWORD) or a PEM ECDSA P-256 / ed25519 private key. Signing works
offline; keyless signing (Fulcio/Rekor) is not supported.`,
		Example: `  deckhand module sign registry.example.io/acme/modules hello v1.2.0 --key cosign.key`,
		Args:    exactArgs("SOURCE", "MODULE", "VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := loadSigningKeyFile(key)
			if err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			res, err := c.Sign(cmd.Context(), args[0], args[1], args[2], k)
			if err != nil {
				return err
			}
			return printSignatures(cmd.OutOrStdout(), f.output, res)
		},
	}
	f.bind(cmd.Flags())
	cmd.Flags().StringVar(&key, "key", "", "private key file (cosign's format or PEM)")
	output.AddFlag(cmd.Flags(), &f.output, false)
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func newRegistryVerifyCommand(f *registryFlags) *cobra.Command {
	var keys []string
	cmd := &cobra.Command{
		Use:   "verify SOURCE MODULE VERSION|CHANNEL",
		Short: "Check that a version is signed by a trusted key (cosign-compatible); exit 1 if not",
		Long: `Verifies the module image and the release image of a version (a channel is verified through the
version it points at) against the public keys of --key (repeatable; a file may hold several
keys, for rotation). Prints which key signed what; exits non-zero when a signature is missing,
by no trusted key, or names other content (an image re-pushed after signing).`,
		Example: `  deckhand registry verify registry.example.io/acme/modules hello stable --key cosign.pub
  deckhand registry verify registry.example.io/acme/modules hello v1.2.0 --key old.pub --key new.pub -o json`,
		Args: exactArgs("SOURCE", "MODULE", "VERSION|CHANNEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			vk, err := loadVerifyKeyFiles(keys)
			if err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			res, verr := c.Verify(cmd.Context(), args[0], args[1], args[2], vk)
			if res != nil {
				if err := printSignatures(cmd.OutOrStdout(), f.output, res); err != nil {
					return err
				}
			}
			if errors.Is(verr, registry.ErrNotSigned) {
				return fmt.Errorf("verification failed: %w", verr)
			}
			return verr
		},
	}
	cmd.Flags().StringArrayVar(&keys, "key", nil, "public key file (PEM; repeatable)")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// exactArgs names the missing arguments instead of counting them.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return fmt.Errorf("%s is required (arguments: %v)", names[len(args)], names)
		}
		if len(args) > len(names) {
			return fmt.Errorf("too many arguments: want %v", names)
		}
		return nil
	}
}
