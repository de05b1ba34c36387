// Package schedule owns the cron engine for schedule bindings: one
// robfig/cron/v3 engine with seconds for all hooks, one entry per distinct
// crontab, and a tick callback that names the hook and the bindings due.
//
// Crontabs follow shell-operator: 5 fields (minute precision, seconds 0),
// 6 fields (seconds first), @every and @hourly-style descriptors, and an
// optional TZ= or CRON_TZ= prefix. It must not import other deckhand packages.
package schedule
