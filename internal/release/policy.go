package release

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deckhand-dev/deckhand/api/v1alpha2"
)

// Policy is the update policy a module follows: a ModuleUpdatePolicy, or
// the embedded default (Stable, Auto) when its ModuleConfig names none.
type Policy struct {
	// Name is the ModuleUpdatePolicy's name; "" for the embedded default.
	Name string
	// Channel is the CR form (Alpha, Beta, EarlyAccess, Stable, RockSolid, Lts).
	Channel string
	Mode    string
	Windows []v1alpha2.UpdateWindow
}

// DefaultPolicy is what a module without a ModuleUpdatePolicy follows.
func DefaultPolicy() Policy {
	return Policy{Channel: "Stable", Mode: v1alpha2.UpdateModeAuto}
}

// PolicyFrom reads a ModuleUpdatePolicy, with DKP's defaults for unset fields.
func PolicyFrom(p *v1alpha2.ModuleUpdatePolicy) Policy {
	out := Policy{Name: p.Name, Channel: p.Spec.ReleaseChannel, Mode: p.Spec.Update.Mode, Windows: p.Spec.Update.Windows}
	if out.Channel == "" {
		out.Channel = "Stable"
	}
	if out.Mode == "" {
		out.Mode = v1alpha2.UpdateModeAuto
	}
	return out
}

// ChannelTag is the registry tag of a channel ("EarlyAccess" ->
// "early-access"), DKP's kebab-casing of the CR value.
func ChannelTag(channel string) string {
	var b strings.Builder
	for i, r := range channel {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

var weekdays = map[string]time.Weekday{
	"Sun": time.Sunday, "Mon": time.Monday, "Tue": time.Tuesday, "Wed": time.Wednesday,
	"Thu": time.Thursday, "Fri": time.Friday, "Sat": time.Saturday,
}

// parseClock reads "HH:MM" as minutes since midnight.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return hh*60 + mm, nil
}

// InWindow reports whether now (taken in UTC) falls in one of the windows;
// no windows means always. A window whose "to" is before its "from" runs
// past midnight into the next day. A malformed window is an error naming it.
func InWindow(now time.Time, windows []v1alpha2.UpdateWindow) (bool, error) {
	if len(windows) == 0 {
		return true, nil
	}
	now = now.UTC()
	minute := now.Hour()*60 + now.Minute()
	for i, w := range windows {
		from, err := parseClock(w.From)
		if err != nil {
			return false, fmt.Errorf("update.windows[%d].from: %w", i, err)
		}
		to, err := parseClock(w.To)
		if err != nil {
			return false, fmt.Errorf("update.windows[%d].to: %w", i, err)
		}
		dayOK := func(d time.Weekday) bool {
			if len(w.Days) == 0 {
				return true
			}
			for _, wd := range w.Days {
				if weekdays[string(wd)] == d {
					return true
				}
			}
			return false
		}
		switch {
		case from <= to:
			if dayOK(now.Weekday()) && minute >= from && minute < to {
				return true, nil
			}
		default: // overnight: the part after from on its day, the part before to on the next
			if dayOK(now.Weekday()) && minute >= from {
				return true, nil
			}
			if dayOK(now.Add(-24*time.Hour).Weekday()) && minute < to {
				return true, nil
			}
		}
	}
	return false, nil
}

// NextWindow is the start of the next window after now (zero when there
// are no windows or none parses), to say when a deferred release goes.
func NextWindow(now time.Time, windows []v1alpha2.UpdateWindow) time.Time {
	now = now.UTC().Truncate(time.Minute)
	for i := 1; i <= 8*24*60; i++ {
		t := now.Add(time.Duration(i) * time.Minute)
		if ok, err := InWindow(t, windows); err != nil {
			return time.Time{}
		} else if ok {
			return t
		}
	}
	return time.Time{}
}

// WindowsString shows windows as the printer column does ("Mon,Wed 13:30-14:00").
func WindowsString(windows []v1alpha2.UpdateWindow) string {
	var parts []string
	for _, w := range windows {
		days := make([]string, len(w.Days))
		for i, d := range w.Days {
			days[i] = string(d)
		}
		s := w.From + "-" + w.To
		if len(days) > 0 {
			s = strings.Join(days, ",") + " " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
