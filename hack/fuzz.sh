#!/usr/bin/env bash
# Runs every Go fuzz target of the repository for a while each (default 30s).
# `go test ./...` replays the seed corpora under testdata/fuzz; this looks
# for new inputs. A crash is written to the package's testdata/fuzz/<Target>/
# by the Go toolchain: fix the bug and commit the input with the fix.
#
# Usage: hack/fuzz.sh [FUZZTIME]
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-30s}
GO=${GO:-go}
status=0
while IFS= read -r file; do
	pkg=./$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
		echo "== $pkg $target ($time)"
		if ! "$GO" test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$time"; then
			status=1
		fi
	done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' . | sed 's|^\./||' | sort)
exit $status
