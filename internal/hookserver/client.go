package hookserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultListenAddress is where `deckhand hooks serve` serves metrics and
// health, as shell-operator does.
const DefaultListenAddress = ":9115"

// DefaultDebugAddress is where `deckhand hooks serve` serves /debug: on
// loopback only, as shell-operator keeps its debug endpoints on a separate
// socket.
const DefaultDebugAddress = "127.0.0.1:9652"

// DebugClient reads the debug endpoints of a running server.
type DebugClient struct {
	base string
	http *http.Client
}

// NewDebugClient returns a client for address: "host:port", ":port" or a URL.
func NewDebugClient(address string) *DebugClient {
	base := address
	if !strings.Contains(base, "://") {
		if strings.HasPrefix(base, ":") {
			base = "127.0.0.1" + base
		}
		base = "http://" + base
	}
	return &DebugClient{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 30 * time.Second}}
}

// Queues returns the queues of the server.
func (c *DebugClient) Queues(ctx context.Context) (QueuesReply, error) {
	var out QueuesReply
	err := c.get(ctx, "/debug/queues", &out)
	return out, err
}

// Snapshots returns the snapshots of one hook.
func (c *DebugClient) Snapshots(ctx context.Context, hookName string) (HookSnapshots, error) {
	var out HookSnapshots
	parts := strings.Split(hookName, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	err := c.get(ctx, "/debug/snapshots/"+strings.Join(parts, "/"), &out)
	return out, err
}

func (c *DebugClient) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reading %s (is `deckhand hooks serve` running? use --address to point at its --debug-address): %w", c.base+path, err)
	}
	body, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", c.base+path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s: %s", c.base+path, e.Error)
		}
		return fmt.Errorf("%s: %s: %s", c.base+path, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decoding %s: %w", c.base+path, err)
	}
	return nil
}
