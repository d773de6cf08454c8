# cutover: build, tests, lab.
#
#   make            build ./cutover
#   make deps       install every build, test and lab package (apt-get, idempotent)
#   make check      deps, build, unit tests (plain, ASan/UBSan, valgrind), cli, tasks,
#                   fuzz, lab scenarios on one shared lab; each suite timed
#   make check-fast the same without the lab
#   make demo       deps, build, lab reset, console on the lab
#   make lab-up | lab-reset | lab-down | lab-status   (LAB_DIR=... picks the lab)
#   make tests/unit/test_err   build and run one unit test
#   make fuzz       libFuzzer over the loaders, ZooKeeper's files, the audit (FUZZ_SECONDS, default 30)
#   make bench      speed figures (never part of check)

PKG_CONFIG ?= pkg-config
PKGS = ncursesw libssh libcurl libxml-2.0 sqlite3 yaml-0.1 jansson libcrypto
# libzookeeper-mt ships no .pc file in Debian 12: its headers and library are
# at fixed places. THREADED selects the multi-threaded library's sync API.
ZK_CFLAGS = -I/usr/include/zookeeper -DTHREADED
ZK_LIBS = -lzookeeper_mt

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wpointer-arith -Wcast-align -Wwrite-strings -Wundef \
       -Wold-style-definition -Wnull-dereference -Wdouble-promotion
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude \
             $(WARN) $(PKG_CFLAGS) $(ZK_CFLAGS) $(CFLAGS)
LIBS = $(PKG_LIBS) $(ZK_LIBS) -lpthread -lm
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

CORE_SRC = $(sort $(wildcard src/*.c))
UI_SRC = $(sort $(wildcard ui/*.c))
CLI_SRC = $(sort $(wildcard cli/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=build/unit/%)
UNIT_ASAN = $(UNIT_SRC:tests/unit/%.c=build/asan/unit/%)
TEST_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null) -Isrc
TEST_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

PREFIX ?= /usr/local
LAB = tests/lab/lab.sh

# Debian 12 packages: build, unit tests, lab (ZooKeeper, ClickHouse, sshd), UI tests.
DEBS = gcc make pkg-config libncurses-dev libssh-dev libcurl4-openssl-dev \
       libxml2-dev libsqlite3-dev libyaml-dev libjansson-dev libzookeeper-mt-dev \
       libssl-dev libcmocka-dev valgrind clang libclang-rt-14-dev \
       zookeeper libservlet-api-java libslf4j-java default-jre-headless \
       clickhouse-server clickhouse-client openssh-server openssh-client \
       tmux sqlite3 curl jq procps iproute2 coreutils
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps check check-fast check-build unit unit-asan valgrind cli-test fuzz lab-test demo \
        lab-up lab-reset lab-down lab-status bench install clean
.DELETE_ON_ERROR:
.SECONDARY:

all: cutover

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -MMD -MP -c $< -o $@

CORE_OBJ = $(CORE_SRC:%.c=build/obj/%.o)
CORE_ASAN_OBJ = $(CORE_SRC:%.c=build/asan/obj/%.o)

cutover: $(CORE_OBJ) $(UI_SRC:%.c=build/obj/%.o) $(CLI_SRC:%.c=build/obj/%.o)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# A unit test links its module's objects from the core; only main() is left out.
build/unit/%: tests/unit/%.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -o $@ $^ $(LIBS) $(TEST_LIBS)

build/asan/unit/%: tests/unit/%.c $(CORE_ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) $(TEST_CFLAGS) -o $@ $^ $(LIBS) $(TEST_LIBS)

# The console's text measure has no curses in it: tested like the core.
build/unit/test_ui_text: build/obj/ui/ui_text.o
build/asan/unit/test_ui_text: build/asan/obj/ui/ui_text.o

# Lab tests in C (transports against the real sshd), run by tests/lab/test_*.sh.
LAB_C_SRC = $(sort $(wildcard tests/lab/*_test.c))
LAB_C_BIN = $(LAB_C_SRC:tests/lab/%.c=build/lab/%)
build/lab/%: tests/lab/%.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -o $@ $^ $(LIBS) $(TEST_LIBS)

# The recorded-REST server for the writer-task adapter tests (tests/tasks/).
build/tasks/rest_replay: tests/tasks/rest_replay.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o $@ $<

tests/unit/test_%: build/unit/test_% FORCE
	$<

FORCE:

deps:
	@missing=$$(for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all installed"; else \
	  echo "deps: installing" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

unit-asan: $(UNIT_ASAN)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run-unit.sh $(UNIT_ASAN)

valgrind: $(UNIT_BIN)
	@tests/run-unit.sh --valgrind $(UNIT_BIN)

cli-test: cutover build/tasks/rest_replay
	@tests/cli/test_cli.sh
	@tests/tasks/test_tasks.sh

lab-test: cutover $(LAB_C_BIN)
	@tests/run-lab.sh

# libFuzzer over the loaders and lint (fuzz_loaders), and over the files others
# write that cutover reads: ZooKeeper's snapshots and logs, the audit under
# verify (fuzz_files). FUZZ_SECONDS bounds the whole run in check, half each.
FUZZ_SECONDS ?= 30
FUZZ_CC = clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude $(PKG_CFLAGS) $(ZK_CFLAGS) \
          -g -O1 -fno-sanitize-recover=all
FUZZ_OBJ = $(CORE_SRC:%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

FUZZ_HALF = $$(( ($(FUZZ_SECONDS) + 1) / 2 ))
fuzz: build/fuzz/fuzz_loaders build/fuzz/fuzz_files
	@mkdir -p build/fuzz/corpus build/fuzz/corpus-files
	@cp -n tests/fuzz/corpus/* build/fuzz/corpus/
	@cp -n tests/fuzz/corpus-files/* build/fuzz/corpus-files/
	build/fuzz/fuzz_loaders -max_total_time=$(FUZZ_HALF) -max_len=8192 -print_final_stats=0 \
	  build/fuzz/corpus 2>build/fuzz/log || { tail -40 build/fuzz/log; exit 1; }
	@grep -E '^#[0-9]+.*DONE' build/fuzz/log | tail -1
	build/fuzz/fuzz_files -max_total_time=$(FUZZ_HALF) -max_len=131072 -print_final_stats=0 \
	  build/fuzz/corpus-files 2>build/fuzz/log-files || { tail -40 build/fuzz/log-files; exit 1; }
	@grep -E '^#[0-9]+.*DONE' build/fuzz/log-files | tail -1; echo "fuzz: 2 passed, 0 failed"

# tests/check.sh runs the suites one after another, timed, with the lab
# starting in the background meanwhile (check-fast: no lab).
check: deps
	@tests/check.sh
check-fast: deps
	@tests/check.sh --fast
check-build: cutover $(UNIT_BIN) $(UNIT_ASAN) $(LAB_C_BIN) build/tasks/rest_replay build/fuzz/fuzz_loaders \
             build/fuzz/fuzz_files

# The demo always opens on the lab as a fresh start leaves it: lab reset puts
# back whatever an earlier demo or test changed (and says what).
demo: deps
	@$(MAKE) --no-print-directory all
	@$(LAB) reset
	@echo
	@echo "The lab is ready (make lab-status shows it). Next: the seed's migration on it, in the console."
	@echo "alice is at the keyboard and bob is the second operator ('o' switches); Enter acts on the"
	@echo "step marked >, ? lists the keys, q leaves ('cutover resume --audit FILE' continues)."
	@echo "make lab-down stops the lab."
	@echo
	@sleep 3
	./cutover run runbooks/zk-migration.yaml -i tests/lab/inventory.yaml \
	  --audit $${LAB_DIR:-/tmp/cutover-lab}/demo-$$(date +%Y%m%d%H%M%S).db --operator alice --operator bob

lab-up:
	@$(LAB) up
lab-reset:
	@$(LAB) reset
lab-down:
	@$(LAB) down
lab-status:
	@$(LAB) status

# Figures, not tests: nothing fails on time. BENCH_MIB sizes the copy (1024).
build/bench/snapgen: tests/bench/snapgen.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror -o $@ $<

bench: cutover build/bench/snapgen
	@tests/bench/copy.sh
	@tests/bench/console.sh

install: cutover
	install -D -m 755 cutover $(DESTDIR)$(PREFIX)/bin/cutover
	install -D -m 644 docs/cutover.1 $(DESTDIR)$(PREFIX)/share/man/man1/cutover.1

clean:
	rm -rf build cutover

-include $(shell find build -name '*.d' 2>/dev/null)
