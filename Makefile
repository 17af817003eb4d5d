# proxy: a reverse-proxy load balancer.  `make` builds ./proxy; `make test`
# runs every test (installing what is missing); `make demo` shows it working.

CC       ?= cc
BUILD    ?= build
LLHTTP_INC := /usr/share/include/llhttp
LLHTTP_SRC := /usr/share/llhttp

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Werror
CFLAGS   ?= -O2 -g
CPPFLAGS += -Iinclude -I$(LLHTTP_INC) -D_GNU_SOURCE
OURFLAGS := -std=c11 $(WARN) -pthread
# llhttp is generated code that trips -Wextra: its own, quieter flags.  Its
# strict mode checks the CRLF after each chunk's data and after each
# chunk-size line; the loose one skips any two bytes after the data and takes
# a CR with any byte after it as a line end, so a chunked body whose end a
# server by the book puts elsewhere went through as valid (request
# smuggling).  The heads' other leniencies are refused by http.c itself.
LLFLAGS  := -std=c11 -w -DLLHTTP_STRICT_MODE=1
LDLIBS   += -lev -luring -lssl -lcrypto -lcares -lnghttp2 -lpthread -lm

SRCS     := $(wildcard src/*.c)
LIBSRCS  := $(filter-out src/main.c,$(SRCS))
OBJS     := $(SRCS:src/%.c=$(BUILD)/%.o)
LIBOBJS  := $(LIBSRCS:src/%.c=$(BUILD)/%.o)
LLOBJS   := $(BUILD)/llhttp/llhttp.o $(BUILD)/llhttp/api.o $(BUILD)/llhttp/http.o
UNITSRCS := $(wildcard tests/unit/*.c)
SUPPORT  := tests/support/backend

.PHONY: all deps test unit vtc vtc-plain scenarios asan demo bench deb clean check-includes

all: proxy

# ---- dependencies: installed when missing (Debian 12, as root) -------------
DEB_BUILD := libev-dev liburing-dev libssl-dev libc-ares-dev node-llhttp libcriterion-dev pkg-config libnghttp2-dev
DEB_TEST  := varnish curl wrk clang libclang-rt-14-dev procps python3 python3-yaml chromium dpkg-dev lintian keepalived iproute2 openssl testssl.sh prometheus nghttp2-client python3-h2
DEB_BENCH := wrk haproxy nginx-light procps openssl libssl-dev nghttp2-client
deps:
	@tests/support/install-deps.sh $(DEB_BUILD) $(DEB_TEST)

.deps-build:
	@tests/support/install-deps.sh $(DEB_BUILD)

$(LLHTTP_INC)/llhttp.h:
	@tests/support/install-deps.sh $(DEB_BUILD)

# On a fresh machine llhttp's sources come with the same package as its
# header: without this rule make finds no way to the objects and stops
# before the header's rule has installed anything.
$(LLHTTP_SRC)/%.c: | $(LLHTTP_INC)/llhttp.h
	@test -f $@ || { echo "$@: missing after installing node-llhttp" >&2; exit 1; }
# ... and they are the package's files, never make's intermediates to remove.
.PRECIOUS: $(LLHTTP_SRC)/%.c

# ---- the binary -------------------------------------------------------------
proxy: $(OBJS) $(LLOBJS)
	$(CC) $(CFLAGS) $(OURFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c $(wildcard include/*.h) | $(LLHTTP_INC)/llhttp.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OURFLAGS) -c -o $@ $<

# (The Makefile too: a change of LLFLAGS must rebuild llhttp.)
$(BUILD)/llhttp/%.o: $(LLHTTP_SRC)/%.c Makefile | $(LLHTTP_INC)/llhttp.h
	@mkdir -p $(dir $@)
	$(CC) -I$(LLHTTP_INC) $(CFLAGS) $(LLFLAGS) -c -o $@ $<

# ---- test support -------------------------------------------------------------
tests/support/backend: tests/support/backend.c | $(LLHTTP_INC)/llhttp.h
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OURFLAGS) -o $@ $< -lev

$(BUILD)/unit-tests: $(UNITSRCS) $(LIBOBJS) $(LLOBJS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OURFLAGS) -o $@ $^ -lcriterion $(LDLIBS)

# ---- tests --------------------------------------------------------------------
# The layering stays readable: no #include cycle, no src file over 900 lines,
# no circle of calls between src files (read from the objects with nm).
check-includes: $(OBJS)
	@BUILD=$(BUILD) tests/support/check-includes.sh

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests --jobs 2 --timeout 120

# Six tests at a time: they spend most of their time waiting on timers and
# peers (about 6 s of CPU in a minute run two at a time).
vtc: proxy $(SUPPORT)
	@VTC_JOBS=$${VTC_JOBS:-6} tests/support/run-vtc.sh ./proxy

# The protocol suite again with sends made one by one (no io_uring), as on
# kernels or containers without it.
vtc-plain: proxy $(SUPPORT)
	@PROXY_IO_URING=0 VTC_JOBS=$${VTC_JOBS:-6} tests/support/run-vtc.sh ./proxy

scenarios: proxy $(SUPPORT)
	@tests/support/run-scenarios.sh ./proxy

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer,
# in its own build directory.
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
asan:
	$(MAKE) BUILD=build/asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" build/asan/proxy-asan build/asan/unit-tests
	ASAN_OPTIONS=detect_leaks=1 build/asan/unit-tests --jobs 2 --timeout 120
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 tests/support/run-vtc.sh build/asan/proxy-asan

build/asan/proxy-asan: $(OBJS) $(LLOBJS)
	$(CC) $(CFLAGS) $(OURFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

test: deps check-includes
	$(MAKE) proxy $(SUPPORT)
	$(MAKE) unit
	$(MAKE) vtc
	$(MAKE) vtc-plain
	$(MAKE) scenarios
	$(MAKE) fuzz-replay
	$(MAKE) asan
	@echo "make test: all suites passed"

# make demo DEMO_PORT=18080 DEMO_TLS_PORT=18443 DEMO_STATS_PORT=18404 DEMO_BACKEND_PORT=19001:
# the clients' port (HTTP, then HTTPS), the dashboard's, and the first of the four backends'.
DEMO_PORT         ?= 8080
DEMO_TLS_PORT     ?= 8443
DEMO_STATS_PORT   ?= 8404
DEMO_BACKEND_PORT ?= 9001
# What the demo uses (openssl for its certificate) and its instructions (curl,
# and wrk for load); going on without them when they cannot be installed
# (not root).
DEB_DEMO := curl wrk openssl
demo: .deps-build proxy $(SUPPORT)
	@tests/support/install-deps.sh $(DEB_DEMO) || echo "demo: going on without them"
	@DEMO_LISTEN=$(DEMO_PORT) DEMO_TLS=$(DEMO_TLS_PORT) DEMO_STATS=$(DEMO_STATS_PORT) DEMO_PORT_BASE=$(DEMO_BACKEND_PORT) \
		tests/support/demo.sh

bench: proxy $(SUPPORT)
	@tests/support/install-deps.sh $(DEB_BENCH)
	@tests/bench/bench.sh

# A Debian package of ./proxy (dpkg-deb; Depends from dpkg-shlibdeps).
DEB_VERSION ?= 0.1.0-1
deb: proxy
	@tests/support/install-deps.sh dpkg-dev binutils
	@conf/deb/build.sh ./proxy $(DEB_VERSION)

clean:
	rm -rf build proxy $(SUPPORT)

# fuzz, fuzz-replay, fuzz-crashes, fuzz-cmin
include tests/fuzz/fuzz.mk
