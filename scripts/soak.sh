#!/bin/sh
# make soak: the reliability figures of docs/RELIABILITY.md, each bounded in
# count and time, measured against build/espat and printed. bench/soak.py
# holds the measurements (its docstring says what each does and its knobs);
# the power cuts are tests/e2e/test_powercut.py with 1,000 trials. Ends with
# one RESULT line per figure and "soak: N passed, N failed". Takes about
# ten minutes on an idle two-core machine.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
BUDGET=${SOAK_BUDGET_S:-600}
LOG=${SOAK_LOG:-build/soak.log}
mkdir -p "$(dirname "$LOG")"
: >"$LOG"
echo "soak: $(date -u '+%F %T') UTC, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')" | tee -a "$LOG"

for fig in passthrough cycles links malformed fdlimit; do
	echo "== $fig" | tee -a "$LOG"
	start=$(date +%s)
	SOAK_BUDGET_S=$BUDGET timeout $((BUDGET + 120)) /usr/bin/python3 bench/soak.py "$fig" 2>&1 | tee -a "$LOG"
	grep -q "^RESULT $fig " "$LOG" || echo "RESULT $fig FAIL (no result: crashed or over time)" | tee -a "$LOG"
	echo "($fig took $(($(date +%s) - start)) s)" | tee -a "$LOG"
done

echo "== powercut" | tee -a "$LOG"
start=$(date +%s)
trials=${SOAK_POWERCUTS:-1000}
out=$(POWERCUT_TRIALS=$trials timeout 1800 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	tests/e2e/test_powercut.py 2>&1)
rc=$?
summary=$(printf '%s\n' "$out" | grep '^powercut:')
printf 'figure %s\n' "$summary" | tee -a "$LOG"
if [ "$rc" -eq 0 ]; then
	echo "RESULT powercut ok $trials kill -9 cuts during settings writes; every setting read back old or new" | tee -a "$LOG"
else
	printf '%s\n' "$out" | tail -20 >>"$LOG"
	echo "RESULT powercut FAIL (pytest exit $rc; see $LOG)" | tee -a "$LOG"
fi
echo "(powercut took $(($(date +%s) - start)) s)" | tee -a "$LOG"

echo "== summary"
grep '^RESULT' "$LOG"
pass=$(grep -c '^RESULT [a-z]* ok' "$LOG")
fail=$(grep -c '^RESULT [a-z]* FAIL' "$LOG")
echo "soak: $pass passed, $fail failed (log: $LOG)"
[ "$fail" -eq 0 ]
