#!/bin/sh
# Runs every unit test binary BUILD/tests/test_* and the in-process
# transcript runner on every tests/transcripts/*.t.
#
#   scripts/run_unit.sh [BUILD]        (default BUILD=build)
#
# Output of a binary is shown only when it fails. Counts test cases (cmocka
# TAP lines) and transcript runs; a binary that exits non-zero with all its
# cases passing (a sanitizer report at exit, a crash) counts one failure.
# Ends with "run_unit: N passed, N failed"; exits 1 on any failure.
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

pass=0
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

found=0
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d | *.o) continue ;; esac
	found=1
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
	rc=$?
	ok=$(grep -c '^ok ' "$log")
	bad=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
	fi
	pass=$((pass + ok))
	fail=$((fail + bad))
	if [ "$bad" -ne 0 ]; then
		echo "FAIL $t (exit $rc)"
		sed 's/^/    /' "$log"
	else
		echo "ok   $t ($ok cases)"
	fi
done
if [ "$found" -eq 0 ]; then
	echo "run_unit: no test binaries in $BUILD/tests (run make first)"
	fail=$((fail + 1))
fi

runner="$BUILD/tests/transcript_run"
if [ -x "$runner" ]; then
	"$runner" tests/transcripts/*.t >"$log" 2>&1
	rc=$?
	summary=$(grep '^transcripts (in-process):' "$log")
	tp=$(echo "$summary" | sed -n 's/.* \([0-9]*\) runs passed.*/\1/p')
	tf=$(echo "$summary" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	tp=${tp:-0}
	tf=${tf:-0}
	if [ "$rc" -ne 0 ] && [ "$tf" -eq 0 ]; then
		tf=1
	fi
	pass=$((pass + tp))
	fail=$((fail + tf))
	if [ "$tf" -ne 0 ]; then
		echo "FAIL $runner (exit $rc)"
		sed 's/^/    /' "$log"
	else
		echo "ok   $runner ($summary)"
	fi
else
	echo "FAIL $runner missing (run make first)"
	fail=$((fail + 1))
fi

echo "run_unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
