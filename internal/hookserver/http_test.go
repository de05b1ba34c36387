package hookserver

import (
	"net/http"
	"strings"
	"testing"
)

// /debug (full objects, Secrets included) is served only on the debug
// address; metrics and health only on the main one.
func TestDebugEndpointsOnlyOnDebugAddress(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "startup.sh", "configVersion: v1\nonStartup: 1", "true")
	ts := startServer(t, dir)
	ts.waitReady(t)
	for _, path := range []string{"/debug/queues", "/debug/snapshots/startup.sh"} {
		if code, body := getURL(t, "http://"+ts.addr+path); code != http.StatusNotFound {
			t.Errorf("main address serves %s: %d %s", path, code, body)
		}
		if code, body := ts.get(t, path); code != http.StatusOK {
			t.Errorf("debug address %s: %d %s", path, code, body)
		}
	}
	for _, path := range []string{"/metrics", "/readyz", "/healthz"} {
		if code, _ := getURL(t, "http://"+ts.debugAddr+path); code != http.StatusNotFound {
			t.Errorf("debug address serves %s: %d", path, code)
		}
	}
	if code, body := ts.get(t, "/metrics"); code != http.StatusOK || !strings.Contains(body, "deckhand_") {
		t.Errorf("/metrics on the main address: %d", code)
	}
}
