#!/bin/sh
# Builds the libFuzzer targets tests/fuzz/*.c into build/fuzz/ (clang,
# -fsanitize=fuzzer,address,undefined) and runs each for FUZZ_SECONDS
# (default 20) on its corpus in build/fuzz/corpus/NAME (kept between runs;
# seeded from tests/transcripts). Ends with "fuzz: N passed, N failed";
# a crash leaves its input in build/fuzz/ (crash-*, leak-*, timeout-*).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
SECONDS_EACH=${FUZZ_SECONDS:-20}
OUT=${FUZZ_OUT:-build/fuzz}
CC_FUZZ=${CC_FUZZ:-clang}
mkdir -p "$OUT"

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "fuzz: $CC_FUZZ not found"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

# Objects for the fuzz build: the core, the commands, the test port, the
# posix regex it uses and the simulated world (which links Debian's inih).
# No OS event loop, no app.
SRC="$(ls src/core/*.c src/proto/*.c src/cmd/*.c src/testport/*.c src/world/*.c) src/posix/regex_posix.c"
LIBS="-linih -lcrypto"
CFLAGS="-std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fno-omit-frame-pointer \
-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"

# Seeds: the bytes each transcript sends, its waits as clock steps and its
# power cycles (any format detail is fine for a seed; the fuzzer mutates
# them anyway), plus the target's own tests/fuzz/seeds/NAME/*.t in the same
# format; world files for fuzz_world.
seed() {
	dir=$1
	mkdir -p "$dir"
	if [ "$(basename "$dir")" = fuzz_world ]; then
		cp docs/world.example.ini "$dir/seed-world.example.ini"
		return
	fi
	# a codec's seeds are raw inputs: tests/fuzz/seeds/NAME/*.bin as they are
	for b in tests/fuzz/seeds/"$(basename "$dir")"/*.bin; do
		[ -f "$b" ] && cp "$b" "$dir/seed-$(basename "$b" .bin)"
	done
	for t in tests/transcripts/*.t tests/fuzz/seeds/"$(basename "$dir")"/*.t; do
		[ -f "$t" ] || continue
		tname=$(basename "$t" .t)
		[ -f "$dir/seed-$tname" ] && continue
		/usr/bin/python3 - "$t" "$dir/seed-$tname" <<'PYEOF' 2>/dev/null || true
import sys
sys.path.insert(0, "tests/e2e")
import transcript
_, steps = transcript.parse(sys.argv[1])
# fuzz_engine's clock ops: 0xF0..0xFD and 0xFF, largest first
clock = sorted([(op, (op - 0xF0 + 1) * (7 if op & 1 else 1237)) for op in range(0xF0, 0xFE)]
               + [(0xFF, 60000)], key=lambda s: -s[1])
out = b""
for kind, arg, _line in steps:
    if kind in ("send", "chunk"):
        for part in transcript.split_lines(arg):
            out += bytes([min(len(part) - 1, 63)]) + part[:64]
    elif kind == "wait":
        for op, ms in clock:
            while arg >= ms:
                out += bytes([op])
                arg -= ms
    elif kind == "power-cycle":
        out += b"\xfe"
open(sys.argv[2], "wb").write(out)
PYEOF
	done
}

pass=0
fail=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin="$OUT/$name"
	echo "== $name: build"
	# shellcheck disable=SC2086
	if ! $CC_FUZZ $CFLAGS -o "$bin" "$src" $SRC $LIBS; then
		echo "FAIL $name: build"
		fail=$((fail + 1))
		continue
	fi
	corpus="$OUT/corpus/$name"
	seed "$corpus"
	echo "== $name: run ${SECONDS_EACH}s"
	if "$bin" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$OUT/" "$corpus" >"$OUT/$name.log" 2>&1; then
		echo "ok   $name ($(grep -E '^stat::number_of_executed_units' "$OUT/$name.log" | awk '{print $2}') execs)"
		pass=$((pass + 1))
	else
		echo "FAIL $name (log: $OUT/$name.log)"
		grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$OUT/$name.log" | head -20 | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
