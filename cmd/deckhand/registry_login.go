package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/registry"
)

func newRegistryLoginCommand(f *registryFlags) *cobra.Command {
	var (
		user, password string
		passwordStdin  bool
	)
	cmd := &cobra.Command{
		Use:   "login HOST",
		Short: "Check credentials against a registry and save them in docker's config.json",
		Long: `Checks USER and PASSWORD against HOST (GET /v2/ with them, following the registry's
basic or token authentication), then saves them where deckhand and docker read credentials:
the file given with --registry-config (a config.json, or a directory holding one), else
$DOCKER_CONFIG/config.json, else ~/.docker/config.json. Other entries of the file are kept,
a credential helper named by credsStore/credHelpers is used as docker login uses it, and the
file is left readable by its owner only (0600). Without -u or -p on a terminal, asks for them.`,
		Example: `  deckhand registry login registry.example.io -u robot --password-stdin < token.txt
  deckhand registry login localhost:5000 -u admin -p admin --registry-config ./ci-docker`,
		Args: exactArgs("HOST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, err := registry.RegistryHost(args[0])
			if err != nil {
				return err
			}
			if password != "" && passwordStdin {
				return errors.New("--password and --password-stdin are exclusive: pass one")
			}
			if user, password, err = loginCredentials(cmd, user, password, passwordStdin); err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			res, err := c.CheckLogin(cmd.Context(), host, user, password)
			if err != nil {
				return err
			}
			path := registry.DockerConfigPath(f.config)
			if err := registry.SaveLogin(path, res.Registry, user, password); err != nil {
				return err
			}
			if !res.Verified {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s answers without authentication, so the password was not checked\n", res.Registry)
			}
			out := struct {
				*registry.LoginResult
				Config string `json:"config"`
			}{res, path}
			return output.Print(cmd.OutOrStdout(), f.output, out, func(w io.Writer) error {
				output.Row(w, "Login succeeded:", res.Username, "@", res.Registry, "saved in", path)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&user, "username", "u", "", "user name")
	cmd.Flags().StringVarP(&password, "password", "p", "", "password or token (visible in the process list: prefer --password-stdin)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password or token from stdin")
	return cmd
}

// loginCredentials completes user and password from stdin or a terminal prompt.
func loginCredentials(cmd *cobra.Command, user, password string, fromStdin bool) (string, string, error) {
	in := cmd.InOrStdin()
	if fromStdin {
		data, err := io.ReadAll(in)
		if err != nil {
			return "", "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		password = strings.TrimRight(string(data), "\r\n")
		if password == "" {
			return "", "", errors.New("--password-stdin: stdin was empty; pipe the password or token into it")
		}
	}
	tty, isTTY := in.(*os.File)
	isTTY = isTTY && term.IsTerminal(int(tty.Fd()))
	if user == "" {
		if !isTTY || fromStdin {
			return "", "", errors.New("no user name: pass -u USER")
		}
		fmt.Fprint(cmd.ErrOrStderr(), "Username: ")
		line, err := bufio.NewReader(tty).ReadString('\n')
		if err != nil {
			return "", "", fmt.Errorf("reading the user name: %w", err)
		}
		user = strings.TrimSpace(line)
	}
	if password == "" {
		if !isTTY {
			return "", "", errors.New("no password: pass --password-stdin (or -p PASSWORD)")
		}
		fmt.Fprint(cmd.ErrOrStderr(), "Password: ")
		data, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", "", fmt.Errorf("reading the password: %w", err)
		}
		password = string(data)
	}
	if user == "" || password == "" {
		return "", "", errors.New("a user name and a password are both needed")
	}
	return user, password, nil
}

func newRegistryLogoutCommand(f *registryFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "logout HOST",
		Short: "Remove a registry's credentials from docker's config.json",
		Long: `Removes HOST's credentials from the docker config deckhand uses (--registry-config,
else $DOCKER_CONFIG/config.json, else ~/.docker/config.json), or from the credential helper it
names. Other entries are kept.`,
		Example: `  deckhand registry logout registry.example.io`,
		Args:    exactArgs("HOST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, err := registry.RegistryHost(args[0])
			if err != nil {
				return err
			}
			path := registry.DockerConfigPath(f.config)
			removed, err := registry.Logout(path, host)
			if err != nil {
				return err
			}
			out := map[string]any{"registry": host, "config": path, "removed": removed}
			return output.Print(cmd.OutOrStdout(), f.output, out, func(w io.Writer) error {
				if removed {
					output.Row(w, "Removed the credentials for", host, "from", path)
				} else {
					output.Row(w, "Not logged in to", host, "in", path, "(nothing removed)")
				}
				return nil
			})
		},
	}
}
