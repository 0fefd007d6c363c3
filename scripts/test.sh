#!/bin/sh
# The whole test suite (what `make test` runs after scripts/deps.sh):
#   0. scripts/check_layers.py: layers include downwards, src/cmd/ has no
#      include cycle, no family reaches into another's state
#   1. make all; unit tests + in-process transcripts; pytest tests/e2e
#   2. make asan; the same three against build/asan (skip: --no-asan)
#   3. a short libFuzzer run of every target (skip: --no-fuzz)
# Ends with "N passed, N failed" (test cases, transcript runs, fuzz targets)
# and exits 1 on any failure.
#
# Environment: FUZZ_SECONDS (default 10 here), POWERCUT_TRIALS (default 100;
# 30 in the ASan pass unless set), PYTEST_ARGS (extra pytest arguments),
# PYTEST_JOBS (e2e workers, default the CPU count; 1: no pytest-xdist).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

asan=1
fuzz=1
for a in "$@"; do
	case "$a" in
	--no-asan) asan=0 ;;
	--no-fuzz) fuzz=0 ;;
	-h | --help)
		sed -n '2,13p' "$0"
		exit 0
		;;
	*)
		echo "test.sh: unknown option $a" >&2
		exit 2
		;;
	esac
done

PY=/usr/bin/python3
JOBS=$(nproc 2>/dev/null || echo 2)
# e2e in parallel (python3-pytest-xdist): whole files per worker, so each
# file's module-scoped peers (brokers, servers) start once
XDIST=""
if [ "${PYTEST_JOBS:-$JOBS}" -gt 1 ] && $PY -c "import xdist" 2>/dev/null; then
	XDIST="-n ${PYTEST_JOBS:-$JOBS} --dist loadfile"
fi
pass=0
fail=0
notes=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)

step() { printf '\n==== %s\n' "$*"; }
note_fail() { notes="$notes
  - $1"; }

# Adds the counts of a "N passed, N failed" style summary line.
add_counts() {
	p=$(echo "$1" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) passed.*/\1/p; s/^\([0-9][0-9]*\) passed.*/\1/p' | head -1)
	f=$(echo "$1" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) failed.*/\1/p; s/^\([0-9][0-9]*\) failed.*/\1/p' | head -1)
	e=$(echo "$1" | sed -n 's/.*[^0-9]\([0-9][0-9]*\) errors\{0,1\}.*/\1/p; s/^\([0-9][0-9]*\) errors\{0,1\}.*/\1/p' | head -1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0} + ${e:-0}))
}

# build NAME TARGET...
build() {
	name=$1
	shift
	step "build: make $*"
	if make -j"$JOBS" "$@" >"$log" 2>&1; then
		echo "ok"
		return 0
	fi
	tail -40 "$log"
	fail=$((fail + 1))
	note_fail "$name build failed"
	return 1
}

# unit BUILD
unit() {
	step "unit tests and in-process transcripts ($1)"
	scripts/run_unit.sh "$1" | tee "$log"
	rc=$?
	line=$(grep '^run_unit:' "$log" | tail -1)
	before=$fail
	add_counts "$line"
	if [ -z "$line" ]; then
		fail=$((fail + 1))
	fi
	[ "$fail" -eq "$before" ] || note_fail "unit/transcripts ($1)"
	return $rc
}

# e2e BINARY
e2e() {
	step "pytest tests/e2e (ESPAT_BIN=$1)"
	# shellcheck disable=SC2086
	ESPAT_BIN="$ROOT/$1" $PY -m pytest -q -p no:cacheprovider $XDIST ${PYTEST_ARGS:-} tests/e2e 2>&1 | tee "$log"
	line=$(grep -E '^(=+ )?[0-9]+ [a-z]+.* in [0-9.]+s' "$log" | tail -1)
	before=$fail
	if [ -z "$line" ]; then
		echo "pytest printed no summary"
		fail=$((fail + 1))
	else
		add_counts "$line"
	fi
	[ "$fail" -eq "$before" ] || note_fail "e2e ($1)"
}

# tally NAME PATTERN: adds the counts of the last line of $log that matches
# PATTERN; no such line is a failure of NAME too.
tally() {
	line=$(grep "$2" "$log" | tail -1)
	before=$fail
	if [ -z "$line" ]; then
		fail=$((fail + 1))
	else
		add_counts "$line"
	fi
	[ "$fail" -eq "$before" ] || note_fail "$1"
}

step "layers (scripts/check_layers.py)"
$PY scripts/check_layers.py | tee "$log"
tally layers '^check_layers:.*passed'

if build normal all; then
	unit build
	e2e build/espat
fi

if [ "$asan" -eq 1 ]; then
	if build asan asan; then
		export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
		export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
		unit build/asan
		POWERCUT_TRIALS=${POWERCUT_TRIALS:-30} e2e build/asan/espat
	fi
fi

if [ "$fuzz" -eq 1 ]; then
	step "fuzz (FUZZ_SECONDS=${FUZZ_SECONDS:-10} per target)"
	FUZZ_SECONDS=${FUZZ_SECONDS:-10} scripts/fuzz.sh | tee "$log"
	tally fuzz '^fuzz:'
fi

end=$(date +%s)
printf '\n==== summary (%ss)' "$((end - start))"
if [ -n "$notes" ]; then
	printf '\nfailures in:%s' "$notes"
fi
printf '\n%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
