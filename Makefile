# leakhunt: one non-recursive Makefile.
#
#   make                      build build/leakhunt
#   make test                 build and run every test; ends with "N passed, N failed"
#   make check SANITIZE=address,undefined
#                             the same under sanitizers (separate build directory)
#   make fuzz                 build libFuzzer targets (clang) and run each briefly
#   make bench                every benchmark against its anchors (bench-snapshot, bench-report,
#                             bench-native, bench-lht-writer, bench-core,
#                             bench-capture); each writes its section of docs/benchmarks.md
#   make bench-native         leakhunt record vs heaptrack (bench/record.sh)
#   make bench-lht-writer     the preload's event writer alone, .lht version 2 vs 3 (bench/lht_writer.sh)
#   bash bench/record_ab.sh A B   two builds' recorders paired on the program thread's CPU time
#   make bench-core           leakhunt core vs gcore, census of the core (bench/core.sh)
#   make bench-capture        leakhunt snapshot vs in-process v8.writeHeapSnapshot (bench/capture.sh)
#   make demo                 run the bundled leaky Node program and analyze it
#   DEVELOPER=1               -Werror and a strict warning list (git's config.mak.dev)
#
# Adding a source file needs no edit here: every src/<dir>/*.c is picked up.

CC ?= cc
O ?= 2
SANITIZE ?=
DEVELOPER ?=

ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build-san
endif

CFLAGS_BASE = -std=gnu11 -g -O$(O) -pthread -D_GNU_SOURCE -Isrc -MMD -MP
WARN = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare
ifneq ($(DEVELOPER),)
WARN += -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	-Wformat=2 -Wvla -Wold-style-definition
endif
ifneq ($(SANITIZE),)
CFLAGS_BASE += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
O = 1
endif

CFLAGS_ALL = $(CFLAGS_BASE) $(WARN) $(CFLAGS)
LIBS = -lcjson -lwslay -lcrypto -lm -pthread -ldw -lelf -lzstd -liberty -ldl

LIB_SRC := $(wildcard src/base/*.c src/snapshot/*.c src/report/*.c src/inspect/*.c src/native/*.c src/coredump/*.c)
CMD_SRC := $(wildcard src/cmd/*.c) src/leakhunt.c
UNIT_SRC := $(wildcard test/unit/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)

all: $(BUILD)/leakhunt $(BUILD)/libleakhunt.so

# The preload library: always plain -O2 -g, never sanitized (ASan and the
# preload both interpose malloc), no C++ runtime, only interposed names exported.
PRELOAD_SRC := $(wildcard src/native/preload/*.c)
PRELOAD_CFLAGS = -std=gnu11 -g -O2 -fPIC -fvisibility=hidden -fno-omit-frame-pointer \
	-pthread -D_GNU_SOURCE -Isrc $(WARN)
$(BUILD)/libleakhunt.so: $(PRELOAD_SRC) $(wildcard src/native/preload/*.h) src/native/lht.h src/native/lht_ptr.h
	@mkdir -p $(dir $@)
	$(CC) $(PRELOAD_CFLAGS) -shared -o $@ $(PRELOAD_SRC) -lunwind -lzstd -lm -ldl

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# the HTML report's style and script, built in with .incbin (-MMD does not see them)
$(BUILD)/src/report/native_html.o: $(wildcard web/*)

$(BUILD)/libleakhunt-core.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/leakhunt: $(CMD_OBJ) $(BUILD)/libleakhunt-core.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libleakhunt-core.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

test: $(BUILD)/leakhunt $(BUILD)/libleakhunt.so $(BUILD)/unit-tests
	LEAKHUNT_BUILDS=$(BUILD) bash test/run.sh

check: test

# Everything CI runs: the plain build, the sanitizer build and a short fuzz run,
# counted together into one "N passed, N failed" line.
test-all:
	$(MAKE) DEVELOPER=1 all $(BUILD)/unit-tests
	$(MAKE) SANITIZE=address,undefined DEVELOPER=1 build-san/leakhunt build-san/unit-tests
	$(MAKE) fuzz-build
	LEAKHUNT_BUILDS="build build-san" bash test/run.sh

# libFuzzer targets: one per parser, run for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 20
FUZZ_SRC := $(wildcard test/fuzz/*.c)
FUZZ_BIN := $(FUZZ_SRC:test/fuzz/%.c=build-fuzz/%)
# the headers too: a fix in an inline function of src/native/lht.h left the
# targets as they were
build-fuzz/%: test/fuzz/%.c $(LIB_SRC) $(wildcard src/*/*.h) $(wildcard web/*)
	@mkdir -p build-fuzz
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(LIB_SRC) $(LIBS)
fuzz-build: $(FUZZ_BIN)
fuzz: $(FUZZ_BIN)
	bash test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# make bench runs every benchmark; each writes its own section of docs/benchmarks.md
bench: bench-snapshot bench-report bench-native bench-lht-writer bench-core bench-capture

# leakhunt summary against DevTools' loader and memlab on ~100 MB and ~1 GB snapshots (bench/run.sh)
bench-snapshot: $(BUILD)/leakhunt
	bash bench/run.sh

# leakhunt report against heaptrack_print on 4 M and 16 M event traces (bench/report.sh)
bench-report: $(BUILD)/leakhunt $(BUILD)/libleakhunt.so
	LEAKHUNT=$(CURDIR)/$(BUILD)/leakhunt bash bench/report.sh

# leakhunt record against heaptrack on allocation-heavy C programs (bench/record.sh)
bench-native: $(BUILD)/leakhunt $(BUILD)/libleakhunt.so
	LEAKHUNT=$(CURDIR)/$(BUILD)/leakhunt bash bench/record.sh

# the preload's event writer alone: .lht version 2 against version 3 (--compact) (bench/lht_writer.sh)
bench-lht-writer: $(BUILD)/leakhunt $(BUILD)/libleakhunt-core.a
	bash bench/lht_writer.sh

# leakhunt core against gcore on a node process, and the census of its core (bench/core.sh)
bench-core: $(BUILD)/leakhunt
	LEAKHUNT=$(CURDIR)/$(BUILD)/leakhunt bash bench/core.sh

# leakhunt snapshot of a live node process against in-process v8.writeHeapSnapshot (bench/capture.sh)
bench-capture: $(BUILD)/leakhunt
	LEAKHUNT=$(CURDIR)/$(BUILD)/leakhunt bash bench/capture.sh

demo: $(BUILD)/leakhunt $(BUILD)/libleakhunt.so
	LEAKHUNT=$(BUILD)/leakhunt bash demo/run.sh

clean:
	rm -rf build build-san build-fuzz

.PHONY: all test check test-all fuzz fuzz-build bench bench-snapshot bench-report bench-native bench-lht-writer bench-core bench-capture demo clean
-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
