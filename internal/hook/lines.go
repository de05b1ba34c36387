package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// maxLineBytes caps one logged line; longer lines are split.
const maxLineBytes = 64 * 1024

// lineLogger is an io.Writer that forwards every line written to it to a
// slog logger and keeps the last few lines for error messages.
type lineLogger struct {
	log    *slog.Logger
	stream string
	keep   int
	// parseJSON logs JSON object lines as structured records.
	parseJSON bool

	mu   sync.Mutex
	buf  []byte
	tail []string
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) >= maxLineBytes {
				l.emit(string(l.buf[:maxLineBytes]))
				l.buf = l.buf[maxLineBytes:]
				continue
			}
			break
		}
		l.emit(string(bytes.TrimSuffix(l.buf[:i], []byte("\r"))))
		l.buf = l.buf[i+1:]
	}
	// Do not keep a large backing array alive once drained.
	if len(l.buf) == 0 {
		l.buf = nil
	}
	return len(p), nil
}

// flush emits a last line that had no newline.
func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(string(l.buf))
		l.buf = nil
	}
}

func (l *lineLogger) emit(s string) {
	if s == "" {
		return
	}
	if msg, level, attrs, ok := l.structured(s); ok {
		l.log.LogAttrs(context.Background(), level, msg, append(attrs, slog.String("output", l.stream))...)
	} else {
		l.log.LogAttrs(context.Background(), slog.LevelInfo, s, slog.String("output", l.stream))
	}
	if l.keep == 0 {
		return
	}
	l.tail = append(l.tail, s)
	if len(l.tail) > l.keep {
		l.tail = l.tail[len(l.tail)-l.keep:]
	}
}

// structured parses s as a JSON log line when parseJSON is on.
func (l *lineLogger) structured(s string) (string, slog.Level, []slog.Attr, bool) {
	if !l.parseJSON {
		return "", 0, nil, false
	}
	return jsonLine(s)
}

func (l *lineLogger) last() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.tail...)
}

// jsonLine turns a line holding a JSON object (a hook logging structured
// output) into a record: "msg" is the message, "level" the level, every
// other key is kept under the "fields" group. Like shell-operator, deckhand
// does this only when asked to (LOG_PROXY_HOOK_JSON=true, RunOptions.ProxyJSONLogs);
// anything else is logged verbatim.
func jsonLine(s string) (string, slog.Level, []slog.Attr, bool) {
	if !strings.HasPrefix(s, "{") {
		return "", 0, nil, false
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return "", 0, nil, false
	}
	msg, _ := m["msg"].(string)
	if msg == "" {
		msg, _ = m["message"].(string)
	}
	level := slog.LevelInfo
	if lv, ok := m["level"].(string); ok {
		switch strings.ToLower(lv) {
		case "debug", "trace":
			level = slog.LevelDebug
		case "warn", "warning":
			level = slog.LevelWarn
		case "error", "fatal":
			level = slog.LevelError
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "msg" && k != "message" && k != "level" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	fields := make([]any, 0, len(keys))
	for _, k := range keys {
		fields = append(fields, slog.Any(k, m[k]))
	}
	var attrs []slog.Attr
	if len(fields) > 0 {
		attrs = append(attrs, slog.Group("fields", fields...))
	}
	return msg, level, attrs, true
}
