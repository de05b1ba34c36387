package bench

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers of BenchmarkHookEventLatency: the hook's records, percentiles,
// the runtime's metrics and the bare hook run.

// readLatencyOut reads the hook's records: the start time (Unix ns) per
// event, keyed round*latencyUpdates+seq, and whether Synchronization ran.
func readLatencyOut(b *testing.B, path string) (map[int]int64, bool) {
	file, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = file.Close() }()
	starts := map[int]int64{}
	synced := false
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		seq, start, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			b.Fatalf("%s: bad record %q", path, sc.Text())
		}
		ns, err := strconv.ParseInt(start, 10, 64)
		if err != nil {
			b.Fatalf("%s: bad start time in %q", path, sc.Text())
		}
		if seq == "sync" {
			synced = true
			continue
		}
		r, i, ok := strings.Cut(seq, "-")
		rn, err1 := strconv.Atoi(r)
		in, err2 := strconv.Atoi(i)
		if !ok || err1 != nil || err2 != nil {
			continue // an object not updated by this benchmark (seq null)
		}
		if _, seen := starts[rn*latencyUpdates+in]; !seen {
			starts[rn*latencyUpdates+in] = ns
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return starts, synced
}

func countRound(starts map[int]int64, round int) int {
	n := 0
	for i := range latencyUpdates {
		if _, ok := starts[round*latencyUpdates+i]; ok {
			n++
		}
	}
	return n
}

// parseSeq reads "<round>-<i>" of this round.
func parseSeq(v, prefix string) (int, bool) {
	s, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil && i >= 0 && i < latencyUpdates
}

func percentilesOf(ms []float64) percentiles {
	slices.Sort(ms)
	at := func(q float64) float64 {
		i := int(q*float64(len(ms))+0.999999) - 1
		return ms[max(0, min(i, len(ms)-1))]
	}
	return percentiles{p50: at(0.50), p99: at(0.99), max: ms[len(ms)-1]}
}

// waitUntil polls cond every 5 ms until it holds or ctx ends.
func waitUntil(b *testing.B, ctx context.Context, what string, cond func() bool) {
	for !cond() {
		if ctx.Err() != nil {
			b.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type histogramTotals struct{ sum, count float64 }

// hookRunSeconds reads the hook_run_seconds histogram's sum and count from
// the runtime's /metrics.
func hookRunSeconds(b *testing.B, addr string) histogramTotals {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	var h histogramTotals
	for _, line := range strings.Split(string(body), "\n") {
		name, rest, _ := strings.Cut(line, "{")
		_, value, _ := strings.Cut(rest, "} ")
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "deckhand_hook_run_seconds_sum":
			h.sum += v
		case "deckhand_hook_run_seconds_count":
			h.count += v
		}
	}
	if h.count == 0 {
		b.Fatalf("no deckhand_hook_run_seconds in %s/metrics", addr)
	}
	return h
}

// bareHookRunMS runs the hook script directly 50 times with a one-event
// binding context, as a floor for the runtime's hook_run_seconds: what bash,
// date and jq cost on this machine at this moment.
func bareHookRunMS(b *testing.B, script, dir string) float64 {
	bc := filepath.Join(dir, "bare-context.json")
	if err := os.WriteFile(bc, []byte(`[{"binding":"cms","type":"Event","watchEvent":"Modified","filterResult":{"name":"cm-00000","seq":"0-0"}}]`), 0o644); err != nil {
		b.Fatal(err)
	}
	const runs = 50
	t0 := time.Now()
	for range runs {
		cmd := exec.Command(script)
		cmd.Env = append(os.Environ(), "BINDING_CONTEXT_PATH="+bc, "LATENCY_OUT="+os.DevNull)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("running %s: %v: %s", script, err, out)
		}
	}
	return float64(time.Since(t0).Microseconds()) / 1000 / runs
}
