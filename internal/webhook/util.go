package webhook

import (
	"bytes"
	"os"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
