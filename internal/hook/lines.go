package hook

import (
	"bytes"
	"context"
	"log/slog"
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
	l.log.LogAttrs(context.Background(), slog.LevelInfo, s, slog.String("output", l.stream))
	if l.keep == 0 {
		return
	}
	l.tail = append(l.tail, s)
	if len(l.tail) > l.keep {
		l.tail = l.tail[len(l.tail)-l.keep:]
	}
}

func (l *lineLogger) last() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.tail...)
}
