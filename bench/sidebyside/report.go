package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/deckhand-dev/deckhand/internal/output"
)

// report is the whole run: every runtime's figures per round, their means
// over rounds, and the ratios deckhand / shell-operator of those means.
type report struct {
	ShellOperator     string      `json:"shellOperatorBinary"`
	Deckhand          string      `json:"deckhandBinary"`
	KubernetesVersion string      `json:"kubernetesVersion"`
	Objects           int         `json:"objects"`
	Updates           int         `json:"updates"`
	Rate              float64     `json:"updatesPerSecond"`
	LoadAverageStart  string      `json:"loadAverageStart"`
	LoadAverageEnd    string      `json:"loadAverageEnd"`
	Runs              []runResult `json:"runs"`
	Means             []runResult `json:"means"`
	Ratios            ratios      `json:"ratiosDeckhandToShellOperator"`
}

type ratios struct {
	SyncMS             float64 `json:"timeToSynchronization"`
	RSSAfterSyncMiB    float64 `json:"rssAfterSync"`
	RSSAfterIdleMiB    float64 `json:"rssAfterIdle"`
	RSSAfterUpdatesMiB float64 `json:"rssAfterUpdates"`
	PeakRSSMiB         float64 `json:"peakRss"`
	CPUToSyncMS        float64 `json:"cpuToSynchronization"`
	CPUUpdatesMS       float64 `json:"cpuDuringUpdates"`
	P50                float64 `json:"latencyP50"`
	P99                float64 `json:"latencyP99"`
	Max                float64 `json:"latencyMax"`
}

// summarize fills Means (Round 0, in the order runtimes first ran) and Ratios.
func (r *report) summarize() {
	r.Means = nil
	counts := map[string]int{}
	for _, run := range r.Runs {
		if counts[run.Runtime] == 0 {
			r.Means = append(r.Means, runResult{Runtime: run.Runtime})
		}
		counts[run.Runtime]++
	}
	for i := range r.Means {
		m := &r.Means[i]
		for _, run := range r.Runs {
			if run.Runtime != m.Runtime {
				continue
			}
			m.SyncMS += run.SyncMS
			m.RSSAfterSyncMiB += run.RSSAfterSyncMiB
			m.RSSAfterIdleMiB += run.RSSAfterIdleMiB
			m.RSSAfterUpdatesMiB += run.RSSAfterUpdatesMiB
			m.PeakRSSMiB += run.PeakRSSMiB
			m.CPUToSyncMS += run.CPUToSyncMS
			m.CPUUpdatesMS += run.CPUUpdatesMS
			m.LatencyMS.P50 += run.LatencyMS.P50
			m.LatencyMS.P99 += run.LatencyMS.P99
			m.LatencyMS.Max += run.LatencyMS.Max
			m.Events += run.Events
			m.HookRuns += run.HookRuns
			m.StopMS += run.StopMS
			m.BusyCores += run.BusyCores
		}
		c := counts[m.Runtime]
		n := float64(c)
		m.SyncMS /= n
		m.RSSAfterSyncMiB /= n
		m.RSSAfterIdleMiB /= n
		m.RSSAfterUpdatesMiB /= n
		m.PeakRSSMiB /= n
		m.CPUToSyncMS /= n
		m.CPUUpdatesMS /= n
		m.LatencyMS.P50 /= n
		m.LatencyMS.P99 /= n
		m.LatencyMS.Max /= n
		m.Events /= c
		m.HookRuns /= c
		m.StopMS /= n
		m.BusyCores /= n
	}
	d, s := r.mean("deckhand"), r.mean("shell-operator")
	if d == nil || s == nil {
		return
	}
	r.Ratios = ratios{
		SyncMS:             d.SyncMS / s.SyncMS,
		RSSAfterSyncMiB:    d.RSSAfterSyncMiB / s.RSSAfterSyncMiB,
		RSSAfterIdleMiB:    d.RSSAfterIdleMiB / s.RSSAfterIdleMiB,
		RSSAfterUpdatesMiB: d.RSSAfterUpdatesMiB / s.RSSAfterUpdatesMiB,
		PeakRSSMiB:         d.PeakRSSMiB / s.PeakRSSMiB,
		CPUToSyncMS:        d.CPUToSyncMS / s.CPUToSyncMS,
		CPUUpdatesMS:       d.CPUUpdatesMS / s.CPUUpdatesMS,
		P50:                d.LatencyMS.P50 / s.LatencyMS.P50,
		P99:                d.LatencyMS.P99 / s.LatencyMS.P99,
		Max:                d.LatencyMS.Max / s.LatencyMS.Max,
	}
}

func (r *report) mean(runtime string) *runResult {
	for i := range r.Means {
		if r.Means[i].Runtime == runtime {
			return &r.Means[i]
		}
	}
	return nil
}

func (r *report) print(w io.Writer, format string) error {
	return output.Print(w, format, r, func(w io.Writer) error {
		fmt.Fprintf(w, "# %d ConfigMaps, %d updates at %g/s, kube-apiserver %s, load average %s -> %s\n",
			r.Objects, r.Updates, r.Rate, r.KubernetesVersion, r.LoadAverageStart, r.LoadAverageEnd)
		output.Row(w, "RUNTIME", "ROUND", "SYNC-MS", "RSS-SYNC-MiB", "RSS-IDLE-MiB", "RSS-UPDATES-MiB", "PEAK-RSS-MiB",
			"CPU-SYNC-MS", "CPU-UPDATES-MS", "P50-MS", "P99-MS", "MAX-MS", "EVENTS", "HOOK-RUNS", "BUSY-CORES")
		row := func(x runResult, round string) {
			output.Row(w, x.Runtime, round, f0(x.SyncMS), f1(x.RSSAfterSyncMiB), f1(x.RSSAfterIdleMiB), f1(x.RSSAfterUpdatesMiB), f1(x.PeakRSSMiB),
				f0(x.CPUToSyncMS), f0(x.CPUUpdatesMS), f1(x.LatencyMS.P50), f1(x.LatencyMS.P99), f1(x.LatencyMS.Max), x.Events, x.HookRuns, f2(x.BusyCores))
		}
		for _, x := range r.Runs {
			row(x, fmt.Sprint(x.Round))
		}
		for _, x := range r.Means {
			row(x, "mean")
		}
		if r.mean("deckhand") != nil && r.mean("shell-operator") != nil {
			q := r.Ratios
			output.Row(w, "deckhand/shell-operator", "ratio", f2(q.SyncMS), f2(q.RSSAfterSyncMiB), f2(q.RSSAfterIdleMiB), f2(q.RSSAfterUpdatesMiB), f2(q.PeakRSSMiB),
				f2(q.CPUToSyncMS), f2(q.CPUUpdatesMS), f2(q.P50), f2(q.P99), f2(q.Max), "", "", "")
		}
		return nil
	})
}

func (r *report) writeJSON(path string) error {
	var buf bytes.Buffer
	if err := output.Print(&buf, "json", r, nil); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
