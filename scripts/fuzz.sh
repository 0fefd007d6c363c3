#!/bin/sh
# The libFuzzer targets tests/fuzz/fuzz_*.c: builds them into build/fuzz/
# (clang, -fsanitize=fuzzer,address,undefined; the sources once into one
# archive, then a link per target) and runs each on its corpus.
#
#   scripts/fuzz.sh [TARGET...]          CI's short run: FUZZ_SECONDS (20) each, one after another
#   scripts/fuzz.sh --long [TARGET...]   every target at once under nice -n 19 for FUZZ_SECONDS
#                                        (1800), then a table: wall time, execs, execs/s,
#                                        corpus, longest input, findings (make fuzz-long)
#   scripts/fuzz.sh --merge [TARGET...]  minimise build/fuzz/corpus/NAME into the committed
#                                        tests/fuzz/corpus/NAME (libFuzzer -merge=1 into a
#                                        fresh dir; at most 400 KiB, fuzz_engine 1 MiB)
#
# A run's corpus is build/fuzz/corpus/NAME (kept between runs), filled first
# from the committed, minimised tests/fuzz/corpus/NAME (so a short run
# starts where the long ones got to) and from seeds: the transcripts' bytes
# (fuzz_engine's script format) and tests/fuzz/seeds/NAME/. Ends with
# "fuzz: N passed, N failed"; a crash leaves its input in build/fuzz/
# (crash-*, leak-*, timeout-*).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
MODE=short
case "${1:-}" in
--long) MODE=long; shift ;;
--merge) MODE=merge; shift ;;
esac
if [ "$MODE" = long ]; then
	SECONDS_EACH=${FUZZ_SECONDS:-1800}
else
	SECONDS_EACH=${FUZZ_SECONDS:-20}
fi
OUT=${FUZZ_OUT:-build/fuzz}
CC_FUZZ=${CC_FUZZ:-clang}
mkdir -p "$OUT/obj"

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "fuzz: $CC_FUZZ not found"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

TARGETS=$*
if [ -z "$TARGETS" ]; then
	for src in tests/fuzz/fuzz_*.c; do
		TARGETS="$TARGETS $(basename "$src" .c)"
	done
fi

# Objects for the fuzz build: the core, the codecs, the commands, the test
# port, the posix regex and crypto (OpenSSL) it uses and the simulated world (which links
# Debian's inih). No OS event loop, no app. Compiled once (two at a time)
# with the fuzzer's coverage but without its main(), into one archive that
# every target links: the linker takes only what a target uses.
SRC="$(ls src/core/*.c src/proto/*.c src/cmd/*.c src/testport/*.c src/world/*.c) src/posix/regex_posix.c src/posix/crypto_openssl.c"
LIBS="-linih -lcrypto"
CFLAGS="-std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fno-omit-frame-pointer \
-fsanitize=address,undefined -fno-sanitize-recover=undefined"
build_lib() {
	echo "== build: $(echo "$SRC" | wc -w) sources"
	rm -f "$OUT/obj/"*.o "$OUT/libespat_fuzz.a"
	# shellcheck disable=SC2086
	if ! printf '%s\n' $SRC | xargs -P 2 -I{} sh -c \
		'o="$1/obj/$(echo "$2" | tr / _ | sed "s/\.c$/.o/")"; exec $3 $4 -fsanitize=fuzzer-no-link -c -o "$o" "$2"' \
		sh "$OUT" {} "$CC_FUZZ" "$CFLAGS"; then
		return 1
	fi
	ar rcs "$OUT/libespat_fuzz.a" "$OUT/obj/"*.o
}

build_target() {
	# shellcheck disable=SC2086
	$CC_FUZZ $CFLAGS -fsanitize=fuzzer -o "$OUT/$1" "tests/fuzz/$1.c" "$OUT/libespat_fuzz.a" $LIBS
}

# Seeds: the bytes each transcript sends, its waits as clock steps and its
# power cycles (any format detail is fine for a seed; the fuzzer mutates
# them anyway), plus the target's own tests/fuzz/seeds/NAME/*.t in the same
# format; world files for fuzz_world.
seed() {
	dir=$1
	name=$(basename "$dir")
	mkdir -p "$dir"
	# what the long runs found, minimised (never overwrites a newer file)
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -n tests/fuzz/corpus/"$name"/* "$dir/" 2>/dev/null
	fi
	if [ "$name" = fuzz_world ]; then
		cp docs/world.example.ini "$dir/seed-world.example.ini"
		return
	fi
	# a codec's seeds are raw inputs: tests/fuzz/seeds/NAME/*.bin as they are
	for b in tests/fuzz/seeds/"$name"/*.bin; do
		[ -f "$b" ] && cp "$b" "$dir/seed-$(basename "$b" .bin)"
	done
	[ "$name" = fuzz_engine ] || return 0
	for t in tests/transcripts/*.t tests/fuzz/seeds/"$name"/*.t; do
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

# -max_len bounds an input: 4096 bytes (fuzz_engine's scripts reach deep
# states in far less), but a whole FAT image for fuzz_fat (its seeds are
# 100 KiB volumes; cut to 4096 bytes none mounts). -len_control=20 lets
# inputs grow to it five times sooner than libFuzzer's default, so a short
# run from a small corpus still goes deep.
max_len() {
	case $1 in
	fuzz_fat) echo 131072 ;;
	*) echo 4096 ;;
	esac
}
# Bytes a committed corpus may hold (--merge; FUZZ_CORPUS_MAX overrides):
# 400 KiB, and 1 MiB for fuzz_engine, whose deep inputs are the point.
corpus_max() {
	if [ -n "${FUZZ_CORPUS_MAX:-}" ]; then
		echo "$FUZZ_CORPUS_MAX"
		return
	fi
	case $1 in
	fuzz_engine) echo 1048576 ;;
	*) echo 409600 ;;
	esac
}
FLAGS="-len_control=20 -rss_limit_mb=2048 -print_final_stats=1"

run() {
	name=$1
	shift
	"$OUT/$name" $FLAGS -max_len="$(max_len "$name")" -artifact_prefix="$OUT/$name-" "$@" \
		"$OUT/corpus/$name" >"$OUT/$name.log" 2>&1
}

stat_of() {
	grep -E "^stat::$2:" "$OUT/$1.log" | awk '{print $2}'
}

# files, bytes, longest file of a corpus dir
corpus_stats() {
	find "$1" -type f -printf '%s\n' | awk '{n++; b+=$1; if ($1>m) m=$1} END {printf "%d %d %d\n", n, b, m}'
}

if ! build_lib; then
	echo "FAIL build"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
pass=0
fail=0
built=""
for name in $TARGETS; do
	if ! build_target "$name"; then
		echo "FAIL $name: build"
		fail=$((fail + 1))
		continue
	fi
	built="$built $name"
	seed "$OUT/corpus/$name"
done

case $MODE in
short)
	for name in $built; do
		echo "== $name: run ${SECONDS_EACH}s"
		if run "$name" -max_total_time="$SECONDS_EACH" -timeout=10; then
			echo "ok   $name ($(stat_of "$name" number_of_executed_units) execs)"
			pass=$((pass + 1))
		else
			echo "FAIL $name (log: $OUT/$name.log)"
			grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$OUT/$name.log" | head -20 | sed 's/^/    /'
			fail=$((fail + 1))
		fi
	done
	;;
long)
	# all at once, below everything else on the machine; -timeout is
	# generous because a niced process on a busy machine runs slowly
	echo "== long run: $(echo "$built" | wc -w) targets, ${SECONDS_EACH}s each, started $(date -u '+%F %T') UTC"
	for name in $built; do
		(
			start=$(date +%s)
			nice -n 19 "$OUT/$name" $FLAGS -max_len="$(max_len "$name")" -artifact_prefix="$OUT/$name-" \
				-max_total_time="$SECONDS_EACH" -timeout=60 "$OUT/corpus/$name" \
				>"$OUT/$name.log" 2>&1
			echo "$? $(($(date +%s) - start))" >"$OUT/$name.status"
		) &
	done
	wait
	printf '%-16s %8s %12s %8s %8s %10s %9s %s\n' target wall_s execs execs/s corpus bytes max_len findings
	for name in $built; do
		read -r rc wall <"$OUT/$name.status"
		set -- $(corpus_stats "$OUT/corpus/$name")
		# libFuzzer's slow-unit-* files are no finding: inputs past 10 s,
		# which on a loaded machine a niced process meets; they are listed
		found=$(find "$OUT" -maxdepth 1 -type f \( -name "$name-crash-*" -o -name "$name-leak-*" \
			-o -name "$name-timeout-*" -o -name "$name-oom-*" \) | wc -l)
		slow=$(find "$OUT" -maxdepth 1 -type f -name "$name-slow-unit-*" | wc -l)
		printf '%-16s %8s %12s %8s %8s %10s %9s %s\n' "$name" "$wall" \
			"$(stat_of "$name" number_of_executed_units)" "$(stat_of "$name" average_exec_per_sec)" \
			"$1" "$2" "$3" "$found$([ "$slow" -gt 0 ] && echo " ($slow slow)")"
		if [ "$rc" -eq 0 ] && [ "$found" -eq 0 ]; then
			pass=$((pass + 1))
		else
			echo "FAIL $name (exit $rc, log: $OUT/$name.log)"
			fail=$((fail + 1))
		fi
	done
	;;
merge)
	for name in $built; do
		dest=tests/fuzz/corpus/$name
		fresh="$OUT/merge-$name"
		rm -rf "$fresh"
		mkdir -p "$fresh" "$dest"
		if "$OUT/$name" -merge=1 -max_len="$(max_len "$name")" "$fresh" "$OUT/corpus/$name" "$dest" \
			>"$OUT/$name.merge.log" 2>&1; then
			rm -rf "$dest"
			mv "$fresh" "$dest"
			# bounded: past corpus_max bytes the largest inputs go first
			# (fuzz_fat's whole images would otherwise weigh megabytes)
			cap=$(corpus_max "$name")
			trimmed=0
			while [ "$(corpus_stats "$dest" | awk '{print $2}')" -gt "$cap" ]; do
				rm -f "$dest/$(ls -S "$dest" | head -1)"
				trimmed=$((trimmed + 1))
			done
			set -- $(corpus_stats "$dest")
			echo "ok   $name: $dest holds $1 inputs, $2 bytes, longest $3$([ "$trimmed" -gt 0 ] && echo "; $trimmed largest left out to stay under $cap bytes")"
			pass=$((pass + 1))
		else
			echo "FAIL $name: merge (log: $OUT/$name.merge.log)"
			fail=$((fail + 1))
		fi
	done
	;;
esac
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
