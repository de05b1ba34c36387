package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// pollInterval is how often the records file is read while waiting. It
// does not bound the figures' resolution (the hook takes its own start
// time); a slow poll only keeps this program's CPU away from the runtimes.
const pollInterval = 50 * time.Millisecond

// measurement holds what every run shares.
type measurement struct {
	opts       options
	cs         kubernetes.Interface
	namespace  string
	hooksDir   string
	kubeconfig string
	records    string
	work       string
}

type percentiles struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// runResult is one runtime's figures in one round.
type runResult struct {
	Runtime            string      `json:"runtime"`
	Round              int         `json:"round"`
	SyncMS             float64     `json:"timeToSynchronizationMs"`
	RSSAfterSyncMiB    float64     `json:"rssAfterSyncMiB"`
	RSSAfterIdleMiB    float64     `json:"rssAfterIdleMiB"`
	RSSAfterUpdatesMiB float64     `json:"rssAfterUpdatesMiB"`
	PeakRSSMiB         float64     `json:"peakRssMiB"`
	CPUToSyncMS        float64     `json:"cpuToSynchronizationMs"`
	CPUUpdatesMS       float64     `json:"cpuDuringUpdatesMs"`
	LatencyMS          percentiles `json:"updateToHookStartMs"`
	Events             int         `json:"eventsRecorded"`
	HookRuns           int         `json:"hookRuns"`
	StopMS             float64     `json:"stopMs"`
	// BusyCores is the whole machine's mean busy cores while the updates
	// were sent and handled: this run's own processes (API server, etcd,
	// runtime, hooks) plus anything else running, so a high figure says
	// that round was disturbed.
	BusyCores float64 `json:"machineBusyCoresDuringUpdates"`
}

// run measures spec once. index makes this run's seq values unique, so
// records of an earlier run cannot be taken for this one's.
func (m *measurement) run(ctx context.Context, spec runtimeSpec, round, index int) (runResult, error) {
	res := runResult{Runtime: spec.name, Round: round}
	if err := os.WriteFile(m.records, nil, 0o644); err != nil {
		return res, fmt.Errorf("clearing records %s: %w", m.records, err)
	}
	dir := filepath.Join(m.work, fmt.Sprintf("run-%d-%s", index, spec.name))
	p, err := startProcess(spec, m.hooksDir, m.kubeconfig, dir)
	if err != nil {
		return res, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_, _ = p.stop(10 * time.Second)
		}
	}()
	prefix := strconv.Itoa(index) + "-"

	// Synchronization: the hook recorded it.
	var syncStart int64
	if err := m.waitFor(ctx, p, "the hook's Synchronization run", func() (bool, error) {
		r, err := readRecords(m.records, prefix, m.opts.updates)
		syncStart = r.syncStart
		return syncStart != 0, err
	}); err != nil {
		return res, err
	}
	res.SyncMS = float64(syncStart-p.started.UnixNano()) / 1e6
	mem, err := p.memory()
	if err != nil {
		return res, err
	}
	res.RSSAfterSyncMiB = mib(mem.rssKiB)
	cpu, err := p.cpu()
	if err != nil {
		return res, err
	}
	res.CPUToSyncMS = ms(cpu)

	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-p.done:
		return res, p.exited()
	case <-time.After(m.opts.idle):
	}
	if mem, err = p.memory(); err != nil {
		return res, err
	}
	res.RSSAfterIdleMiB = mib(mem.rssKiB)

	machine0, err := machineCPU()
	if err != nil {
		return res, err
	}
	sent, err := m.sendUpdates(ctx, prefix)
	if err != nil {
		return res, err
	}
	var rec records
	waitErr := m.waitFor(ctx, p, "a hook run for every update", func() (bool, error) {
		var err error
		rec, err = readRecords(m.records, prefix, m.opts.updates)
		return rec.count == m.opts.updates, err
	})
	if waitErr != nil && p.exited() != nil {
		return res, waitErr
	}
	if waitErr != nil {
		fmt.Fprintf(os.Stderr, "%s round %d: %v; reporting the %d recorded\n", spec.name, round, waitErr, rec.count)
	}
	if mem, err = p.memory(); err != nil {
		return res, err
	}
	res.RSSAfterUpdatesMiB, res.PeakRSSMiB = mib(mem.rssKiB), mib(mem.hwmKiB)
	cpuAfter, err := p.cpu()
	if err != nil {
		return res, err
	}
	res.CPUUpdatesMS = ms(cpuAfter - cpu)
	machine1, err := machineCPU()
	if err != nil {
		return res, err
	}
	res.BusyCores = busyCores(machine0, machine1)

	stopped = true
	took, err := p.stop(30 * time.Second)
	res.StopMS = ms(took)
	if err != nil {
		return res, fmt.Errorf("stopping %s: %w", spec.name, err)
	}

	var lat []float64
	runs := map[int64]bool{}
	for i, start := range rec.starts {
		if start == 0 {
			continue
		}
		runs[start] = true
		lat = append(lat, float64(start-sent[i])/1e6)
	}
	res.Events, res.HookRuns = len(lat), len(runs)
	if len(lat) == 0 {
		return res, fmt.Errorf("%s: no update reached the hook", spec.name)
	}
	res.LatencyMS = percentilesOf(lat)
	return res, nil
}

// sendUpdates patches the seq annotation of a different ConfigMap per
// update, at the rate, each request in its own goroutine so that a slow
// response does not delay the next. It returns each update's send time
// (Unix ns), taken just before its request.
func (m *measurement) sendUpdates(ctx context.Context, prefix string) ([]int64, error) {
	n := m.opts.updates
	sent := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	tick := time.NewTicker(time.Duration(float64(time.Second) / m.opts.rate))
	defer tick.Stop()
	for i := range n {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil, ctx.Err()
		case <-tick.C:
		}
		name := configMapName(i * m.opts.objects / n)
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, seqAnnotation, prefix+strconv.Itoa(i))
		sent[i] = time.Now().UnixNano()
		wg.Go(func() {
			if _, err := m.cs.CoreV1().ConfigMaps(m.namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				errs <- fmt.Errorf("patching ConfigMap %s/%s: %w", m.namespace, name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return sent, <-errs
}

// waitFor polls cond until it holds, the timeout passes, ctx ends or the
// process exits.
func (m *measurement) waitFor(ctx context.Context, p *process, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(m.opts.timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if err := p.exited(); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: not within %s", what, m.opts.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// records is what the hook wrote for one run.
type records struct {
	syncStart int64   // start of the Synchronization run, 0 until it happened
	starts    []int64 // per update: start of the first run that got it, 0 if none yet
	count     int     // updates with a start
}

// readRecords reads complete lines of the records file; seq values not of
// this run (prefix) are skipped.
func readRecords(path, prefix string, updates int) (records, error) {
	r := records{starts: make([]int64, updates)}
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("reading records %s: %w", path, err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1] // a line being written is read next time
	} else {
		data = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		seq, startText, ok := strings.Cut(sc.Text(), " ")
		start, err := strconv.ParseInt(startText, 10, 64)
		if !ok || err != nil {
			return r, fmt.Errorf("records %s: bad line %q", path, sc.Text())
		}
		if seq == "sync" {
			if r.syncStart == 0 {
				r.syncStart = start
			}
			continue
		}
		rest, ok := strings.CutPrefix(seq, prefix)
		if !ok {
			continue
		}
		i, err := strconv.Atoi(rest)
		if err != nil || i < 0 || i >= updates {
			continue
		}
		if r.starts[i] == 0 {
			r.starts[i] = start
			r.count++
		}
	}
	return r, sc.Err()
}

// percentilesOf gives nearest-rank percentiles of ms.
func percentilesOf(ms []float64) percentiles {
	s := slices.Clone(ms)
	slices.Sort(s)
	rank := func(q float64) float64 {
		i := int(q*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return percentiles{P50: rank(0.50), P99: rank(0.99), Max: s[len(s)-1]}
}

func mib(kib int64) float64      { return float64(kib) / 1024 }
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
