package hook

import (
	"context"
	"log/slog"
	"testing"
)

// MaxRSSBytes is in bytes on every OS: a hook holding 64 MiB reports at
// least that, and not a thousand times more (a unit mix-up).
func TestMaxRSSIsBytes(t *testing.T) {
	dir := t.TempDir()
	path := writeScript(t, dir, "big.sh", `x=$(head -c 67108864 /dev/zero | tr '\0' a); echo "${#x}"`)
	h := &Hook{Name: "big.sh", Path: path, Config: Config{Version: ConfigV1}}
	res, err := Run(context.Background(), h, nil, RunOptions{TmpDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	const want = 64 << 20
	if res.MaxRSSBytes < want || res.MaxRSSBytes > 64*want {
		t.Fatalf("MaxRSSBytes = %d, want about %d (bytes)", res.MaxRSSBytes, want)
	}
}
