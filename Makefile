# espat build. `make run` builds and starts the module; `make test` builds
# and runs every test (unit, transcripts, end-to-end, fuzz smoke, and the
# whole suite again under AddressSanitizer + UBSan).

BUILD   ?= build
CC      ?= cc
SAN     ?=
OPT     ?= -O2 -g
CSTD    := -std=c11
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wundef -Wvla -Wno-unused-parameter
DEFS    := -D_GNU_SOURCE
CFLAGS  += $(CSTD) $(OPT) $(WARN) $(DEFS) $(SAN) -Isrc -MMD -MP
LDFLAGS += $(SAN)

CORE_SRC  := $(wildcard src/core/*.c)
# Protocol codecs: pure incremental parsers and writers (HTTP/1.1, WebSocket),
# beneath the command families; they touch no socket and no clock.
PROTO_SRC := $(wildcard src/proto/*.c)
CMD_SRC   := $(wildcard src/cmd/*.c)
POSIX_SRC := $(wildcard src/posix/*.c)
TPORT_SRC := $(wildcard src/testport/*.c)
WORLD_SRC := $(wildcard src/world/*.c)
APP_SRC   := $(wildcard src/app/*.c)
# The app minus main(): the control interpreter and friends, shared with the
# in-process transcript runner.
APPLIB_SRC := $(filter-out src/app/main.c,$(APP_SRC))

# Libraries from Debian: inih parses world files, jansson speaks the control
# interface's JSON.
WORLD_LIBS := -linih -lm
APP_LIBS   := -ljansson
# The Linux port: c-ares resolves names inside the event loop, OpenSSL is
# the TLS filter over the module's sockets.
TLS_LIBS   := -lssl -lcrypto
# What the codecs in src/proto/ link (every binary that links libespat.a).
PROTO_LIBS := -lcrypto
POSIX_LIBS := -lcares $(TLS_LIBS)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_OBJ   := $(call obj,$(CORE_SRC) $(PROTO_SRC) $(CMD_SRC))
POSIX_OBJ := $(call obj,$(POSIX_SRC))
# The test port borrows the posix regex port (a real BRE engine) and links
# the TLS filter (with the log it writes to), so unit tests can layer it,
# the Linux bus backend, which a unit test runs over fake device files, and
# the crypto port (OpenSSL) that BLE pairing uses.
WORLD_OBJ := $(call obj,$(WORLD_SRC))
TLS_SRC   := $(wildcard src/posix/tls_openssl*.c) src/posix/bytebuf.c src/posix/log.c
# The UART's pure parts (no fd, every time an argument) are unit-tested too.
UART_SRC  := src/posix/pacer.c src/posix/uart_line.c src/posix/uart_rx.c
TPORT_OBJ := $(call obj,$(TPORT_SRC) src/posix/regex_posix.c src/posix/periph_linux.c src/posix/crypto_openssl.c $(TLS_SRC) $(UART_SRC)) $(WORLD_OBJ)
APP_OBJ   := $(call obj,$(APP_SRC))
APPLIB_OBJ := $(call obj,$(APPLIB_SRC))

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOL_BIN  := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRC))

.PHONY: all deps run test check unit transcripts e2e fuzz fuzz-long soak asan bench clean format
all: $(BUILD)/espat $(UNIT_BIN) $(TOOL_BIN)

deps:
	@scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libespat.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	ar rcs $@ $^

$(BUILD)/espat: $(APP_OBJ) $(POSIX_OBJ) $(WORLD_OBJ) $(BUILD)/libespat.a
	$(CC) $(LDFLAGS) -o $@ $(APP_OBJ) $(POSIX_OBJ) $(WORLD_OBJ) $(BUILD)/libespat.a $(WORLD_LIBS) $(APP_LIBS) $(POSIX_LIBS) $(PROTO_LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(TPORT_OBJ) $(BUILD)/libespat.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(TPORT_OBJ) $(BUILD)/libespat.a $(LDFLAGS) -lcmocka $(WORLD_LIBS) $(TLS_LIBS) $(PROTO_LIBS)

# Every allocation of this test goes through its failing counter.
$(BUILD)/tests/test_alloc_fail: LDFLAGS += -Wl,--wrap=malloc,--wrap=realloc,--wrap=calloc

$(BUILD)/tests/%: tests/tools/%.c $(TPORT_OBJ) $(POSIX_OBJ) $(APPLIB_OBJ) $(BUILD)/libespat.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(sort $(TPORT_OBJ) $(POSIX_OBJ) $(APPLIB_OBJ)) $(BUILD)/libespat.a $(LDFLAGS) $(WORLD_LIBS) $(APP_LIBS) $(POSIX_LIBS) $(PROTO_LIBS)

run: deps $(BUILD)/espat
	$(BUILD)/espat $(ARGS)

# The whole suite: unit + transcripts + e2e on the normal build, then the
# same under ASan/UBSan, then a short fuzz run.
test: deps
	@scripts/test.sh

check: all
	@scripts/test.sh --no-asan --no-fuzz

unit: all
	@scripts/run_unit.sh $(BUILD)

asan:
	$(MAKE) BUILD=build/asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" OPT="-O1 -g" all

fuzz:
	@scripts/fuzz.sh

# Every fuzz target at once for 30 minutes (FUZZ_SECONDS), niced; outside CI.
# `scripts/fuzz.sh --merge` then minimises what they found into tests/fuzz/corpus/.
fuzz-long:
	@scripts/fuzz.sh --long

# The reliability figures (docs/RELIABILITY.md), bounded; outside CI.
soak: all
	@scripts/soak.sh

bench: all
	@scripts/bench.sh

format:
	clang-format -i $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/tools/*.c)

clean:
	rm -rf build

# `make install` copies the binary to $(DESTDIR)$(PREFIX)/bin, so that
# `espat` and `espat ctl` run from the PATH; PREFIX=$HOME/.local needs no
# root, DESTDIR stages the tree for a package.
PREFIX  ?= /usr/local
DESTDIR ?=
.PHONY: install
install: $(BUILD)/espat
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/espat $(DESTDIR)$(PREFIX)/bin/espat

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
