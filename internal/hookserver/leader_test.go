package hookserver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// Two replicas with one Lease: only the holder runs hooks; the other takes
// over when the holder stops.
func TestLeaderElection(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	leaseNS := testenv.Namespace(t, cfg, "lease")
	dir := t.TempDir()
	shared := t.TempDir()
	writeHook(t, dir, "startup.sh", "configVersion: v1\nonStartup: 1", `echo "$SERVER_ID" >> "`+shared+`/runs"`)
	replica := func(id string) serverOpt {
		return func(o *Options) {
			o.Env = append(o.Env, "SERVER_ID="+id)
			o.LeaderElection = &LeaderElection{Namespace: leaseNS, Name: "hooks", Identity: id,
				LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 500 * time.Millisecond}
		}
	}
	runs := func() string {
		b, _ := os.ReadFile(filepath.Join(shared, "runs"))
		return string(b)
	}
	a := startServer(t, dir, replica("replica-a"))
	testenv.WaitFor(t, 60*time.Second, "replica-a to lead and run hooks", func() (bool, string) {
		return runs() == "replica-a\n", runs()
	})
	b := startServer(t, dir, replica("replica-b"))
	testenv.WaitFor(t, 60*time.Second, "replica-b to stand by", func() (bool, string) {
		_, body := b.get(t, "/debug/queues")
		var reply QueuesReply
		_ = json.Unmarshal([]byte(body), &reply)
		return reply.Role == "standby (leader: replica-a)", body
	})
	if got := runs(); got != "replica-a\n" {
		t.Fatalf("hooks ran on the standby replica: %q", got)
	}
	a.stop(t)
	testenv.WaitFor(t, 60*time.Second, "replica-b to take over", func() (bool, string) {
		return runs() == "replica-a\nreplica-b\n", runs()
	})
	testenv.WaitFor(t, 60*time.Second, "replica-b to report itself leader", func() (bool, string) {
		_, body := b.get(t, "/debug/queues")
		return strings.Contains(body, `"role": "leader"`), body
	})
}
