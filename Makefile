# tmscan build. Sources are found by directory, so adding a module is adding files:
#   core/ providers/ analyzers/  -> build/libtmscan.a
#   cmd/tmscan/                  -> bin/tmscan
#   cmd/mockcloud/               -> bin/mockcloud
#   tests/unit/test_<module>.c   -> build/tests/test_<module> (cmocka), linked with tests/support/*.c
#   tests/integration/*.sh       -> run against the built binaries and mockcloud
#
# `make SAN=1 ...` builds everything with ASan + UBSan into build/san/.

VERSION := 0.1.0
PREFIX ?= /usr/local
CC ?= cc
SAN ?= 0

ifeq ($(SAN),1)
BUILD ?= build/san
BIN ?= build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1 -g
else
BUILD ?= build/plain
BIN ?= bin
SANFLAGS :=
OPT := -O2 -g
endif

PKGS := libcurl openssl libcjson libuv libxml-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -Wwrite-strings -Wvla -Wundef
CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -I. $(PKG_CFLAGS) \
          -DTM_VERSION=\"$(VERSION)\" $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
LIBS := $(PKG_LIBS) -lm

LIB_SRCS := $(sort $(wildcard core/*.c providers/*.c providers/*/*.c providers/*/*/*.c \
                              analyzers/*.c analyzers/*/*.c))
TMSCAN_SRCS := $(sort $(wildcard cmd/tmscan/*.c))
MOCK_SRCS := $(sort $(wildcard cmd/mockcloud/*.c))
SUPPORT_SRCS := $(sort $(wildcard tests/support/*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
BENCH_SRCS := $(sort $(wildcard bench/*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TMSCAN_OBJS := $(TMSCAN_SRCS:%.c=$(BUILD)/obj/%.o)
MOCK_OBJS := $(MOCK_SRCS:%.c=$(BUILD)/obj/%.o)
SUPPORT_OBJS := $(SUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
LIBTM := $(BUILD)/libtmscan.a

.PHONY: all deps test test-unit test-integration check san fmt fmt-check demo install clean bench

all: $(BIN)/tmscan $(BIN)/mockcloud $(BIN)/query_bench

deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBTM): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN)/tmscan: $(TMSCAN_OBJS) $(LIBTM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(TMSCAN_OBJS) $(LIBTM) $(LIBS)

$(BIN)/mockcloud: $(MOCK_OBJS) $(LIBTM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(MOCK_OBJS) $(LIBTM) $(LIBS)

# The benchmark's query-latency driver (bench/run.py runs it): built and warned about like everything else.
$(BIN)/query_bench: $(BUILD)/obj/bench/query_bench.o $(LIBTM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBTM) $(LIBS)

# Unit tests may reach into mockcloud's parts: every mockcloud object except its main().
MOCK_LIB_OBJS := $(filter-out $(BUILD)/obj/cmd/mockcloud/main.o,$(MOCK_OBJS))

$(BUILD)/tests/%: tests/unit/%.c $(SUPPORT_OBJS) $(MOCK_LIB_OBJS) $(LIBTM)
	@mkdir -p $(dir $@) $(BUILD)/obj/tests/unit
	$(CC) $(CFLAGS) -MMD -MP -MF $(BUILD)/obj/tests/unit/$*.d -o $@ $< $(SUPPORT_OBJS) $(MOCK_LIB_OBJS) \
	    $(LIBTM) $(LDFLAGS) $(LIBS) $(CMOCKA_LIBS)

test-unit: $(TEST_BINS)
	@sh tests/run_unit.sh $(BUILD)/tests

test-integration: all
	@sh tests/run_integration.sh $(abspath $(BIN))

# The plain suite.
test: deps
	@$(MAKE) --no-print-directory all $(TEST_BINS) SAN=$(SAN)
	@$(MAKE) --no-print-directory test-unit test-integration SAN=$(SAN)

# The sanitizer suite (ASan + UBSan), same tests.
san: deps
	@$(MAKE) --no-print-directory test SAN=1

# What a newcomer and CI run: format check, plain suite, sanitizer suite.
check: deps
	@$(MAKE) --no-print-directory fmt-check
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory test SAN=1

FMT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

fmt:
	clang-format -i $(FMT_FILES)

fmt-check:
	@if command -v clang-format >/dev/null 2>&1; then \
	    out=$$(clang-format --dry-run $(FMT_FILES) 2>&1); \
	    if [ -n "$$out" ]; then echo "$$out" | head -40; echo "fmt-check: run 'make fmt'"; exit 1; fi; \
	    echo "fmt-check: ok"; \
	else echo "fmt-check: clang-format not installed, skipped"; fi

demo: deps all
	@sh scripts/demo.sh $(abspath $(BIN))

bench: deps all
	@sh scripts/bench.sh $(abspath $(BIN))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tmscan/policies
	install -m 0755 $(BIN)/tmscan $(BIN)/mockcloud $(DESTDIR)$(PREFIX)/bin/
	cp -R policies/. $(DESTDIR)$(PREFIX)/share/tmscan/policies/

clean:
	rm -rf build bin

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
