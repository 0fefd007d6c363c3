#!/usr/bin/env bash
# Runs the benchmarks in bench/. Each prints ratios against a reference
# measured in the same run; nothing here asserts a timing.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
cc -O2 -std=c11 -Wall -Wextra -Werror -o build/bench/pty_echo bench/pty_echo.c
/usr/bin/python3 bench/bench_at.py
/usr/bin/python3 bench/bench_tcpip.py
/usr/bin/python3 bench/bench_uart_in.py
/usr/bin/python3 bench/bench_http.py
/usr/bin/python3 bench/bench_ws.py
/usr/bin/python3 bench/bench_mqtt.py
