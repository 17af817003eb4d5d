# tests/fuzz/fuzz.mk: the fuzzing targets, included by the Makefile.
#
#   make fuzz                 builds the libFuzzer harnesses with clang
#                             (-fsanitize=fuzzer,address,undefined) and runs each
#                             for FUZZ_SECONDS (default 60), one after the other;
#                             inputs that reach new code are merged into
#                             tests/fuzz/corpus/NAME, crashes land in
#                             tests/fuzz/crashes/NAME-crash-*
#   make fuzz FUZZ_SECONDS=600 FUZZ_OPTS="-jobs=2 -workers=2"
#                             longer, or with any other libFuzzer flag
#   make fuzz-replay          replays every corpus file through the harnesses
#                             built with $(CC) (ASan+UBSan when the compiler has
#                             them, no libFuzzer): the regression test of `make test`
#   make fuzz-crashes         replays tests/fuzz/crashes (inputs of bugs not yet
#                             fixed: fails until they are)
#   make fuzz-cmin            minimises a corpus from scratch (-merge=1)
#   make fuzz-tls-seeds       rewrites the seed-* files of corpus/tls_handshake
#                             (real ClientHellos from OpenSSL clients, see make_tls_seeds.c)
#   make fuzz-h2-seeds        rewrites the seed-* files of corpus/h2_frames
#                             (frames made by make_h2_seeds.py with python3-h2's hpack)
#   make fuzz FUZZ_NAMES=h2_frames
#                             one harness only (any of the names below)
#
# Uses the Makefile's BUILD, CC, CPPFLAGS, OURFLAGS, LLFLAGS, LLHTTP_SRC, LLHTTP_INC.

FUZZ_DIR       := tests/fuzz
FUZZ_BUILD      = $(BUILD)/fuzz
FUZZ_SECONDS   ?= 60
FUZZ_OPTS      ?=
FUZZ_NAMES     := request config proxy_proto h2_headers
FUZZ_CLANG     ?= $(firstword $(shell command -v clang-14 clang 2>/dev/null) clang)

# What each harness links: only the modules it exercises.
FUZZ_request_SRCS := src/http.c src/http_rewrite.c src/http_list.c src/http_strict.c src/buf.c src/sticky_cookie.c
FUZZ_request_LL   := llhttp api http
FUZZ_config_SRCS  := $(sort $(wildcard src/config*.c)) src/client_addr.c src/host_match.c src/log.c
FUZZ_config_LL    :=
FUZZ_proxy_proto_SRCS := src/proxy_proto.c
FUZZ_proxy_proto_LL   :=
FUZZ_h2_headers_SRCS  := src/h2_headers.c src/http_list.c src/http_trailer.c
FUZZ_h2_headers_LL    :=

FUZZ_HDRS      := $(wildcard include/*.h) $(wildcard $(FUZZ_DIR)/*.h)
FUZZ_LF_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LF_CFLAGS := -O1 -g -fno-omit-frame-pointer $(FUZZ_LF_SAN)
FUZZ_RP_CFLAGS ?= -O1 -g -fno-omit-frame-pointer
# ASan+UBSan for the replay build when $(CC) can link them (checked once, lazily).
FUZZ_RP_SAN     = $(eval FUZZ_RP_SAN := $(shell echo 'int main(void){return 0;}' | \
                    $(CC) -fsanitize=address,undefined -x c - -o /dev/null 2>/dev/null && \
                    echo '-fsanitize=address,undefined -fno-sanitize-recover=undefined'))$(FUZZ_RP_SAN)
FUZZ_ENV       := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=0 \
                  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The TLS harness: a server SSL_CTX with a certificate store, fed client
# bytes.  It also links a test helper (tests/unit/tls_fixtures.c) and OpenSSL.
FUZZ_NAMES              += tls_handshake
FUZZ_tls_handshake_SRCS := src/tls_certs.c src/tls_certs_load.c
FUZZ_tls_handshake_LL   :=
FUZZ_tls_handshake_UNIT := tls_fixtures
FUZZ_tls_handshake_LIBS := -lssl -lcrypto

# The HTTP/2 input mode of the request path: client bytes into a real conn
# of a worker (HTTP/1, handed to proto_h2 on the preface), its streams as
# txns to a loopback backend the harness answers: links the whole proxy
# but main.c.
FUZZ_NAMES              += h2_frames
FUZZ_h2_frames_SRCS     := $(LIBSRCS)
FUZZ_h2_frames_LL       := llhttp api http
FUZZ_h2_frames_LIBS     := $(LDLIBS)
FUZZ_h2_frames_LOCAL    := h2_fuzz_backend h2_fuzz_view h2_fuzz_ops

# A server's response read as upstream_h1.c reads it, a chunked body's
# trailer section above all: upstream_h1.c is compiled into the harness
# (the glue that holds the section back and rewrites it is static there),
# the rest of the proxy but main.c linked as for h2_frames.
FUZZ_NAMES              += trailer
FUZZ_trailer_SRCS       := $(filter-out src/upstream_h1.c,$(LIBSRCS))
FUZZ_trailer_LL         := llhttp api http
FUZZ_trailer_LIBS       := $(LDLIBS)

# objects of one harness, for the libFuzzer (lf) or the replay (rp) build
fuzz_objs = $(FUZZ_BUILD)/$(2)/fuzz_$(1).o \
            $(patsubst src/%.c,$(FUZZ_BUILD)/$(2)/src/%.o,$(FUZZ_$(1)_SRCS)) \
            $(patsubst %,$(FUZZ_BUILD)/$(2)/llhttp/%.o,$(FUZZ_$(1)_LL)) \
            $(patsubst %,$(FUZZ_BUILD)/$(2)/unit/%.o,$(FUZZ_$(1)_UNIT)) \
            $(patsubst %,$(FUZZ_BUILD)/$(2)/%.o,$(FUZZ_$(1)_LOCAL))

.PHONY: fuzz fuzz-build fuzz-replay fuzz-crashes fuzz-cmin fuzz-tls-seeds fuzz-h2-seeds

# ---- libFuzzer build (clang) ----------------------------------------------------------
$(FUZZ_BUILD)/lf/src/%.o: src/%.c $(FUZZ_HDRS) | $(LLHTTP_INC)/llhttp.h
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) $(CPPFLAGS) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer-no-link $(OURFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/lf/llhttp/%.o: $(LLHTTP_SRC)/%.c Makefile | $(LLHTTP_INC)/llhttp.h
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) -I$(LLHTTP_INC) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer-no-link $(LLFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/lf/fuzz_%.o: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_HDRS) | $(LLHTTP_INC)/llhttp.h
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) $(CPPFLAGS) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer-no-link $(OURFLAGS) -c -o $@ $<

# a harness's own other files (FUZZ_NAME_LOCAL)
$(FUZZ_BUILD)/lf/%.o: $(FUZZ_DIR)/%.c $(FUZZ_HDRS) | $(LLHTTP_INC)/llhttp.h
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) $(CPPFLAGS) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer-no-link $(OURFLAGS) -c -o $@ $<

# test helpers a harness shares with the unit tests (tls_fixtures.c)
$(FUZZ_BUILD)/lf/unit/%.o: tests/unit/%.c $(FUZZ_HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) $(CPPFLAGS) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer-no-link $(OURFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_tls_handshake: $(call fuzz_objs,tls_handshake,lf)
	$(FUZZ_CLANG) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_tls_handshake_LIBS) -lpthread

$(FUZZ_BUILD)/fuzz_request: $(call fuzz_objs,request,lf)
	$(FUZZ_CLANG) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lpthread

$(FUZZ_BUILD)/fuzz_config: $(call fuzz_objs,config,lf)
	$(FUZZ_CLANG) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lpthread

$(FUZZ_BUILD)/fuzz_proxy_proto: $(call fuzz_objs,proxy_proto,lf)
	$(FUZZ_CLANG) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lpthread

$(FUZZ_BUILD)/fuzz_h2_headers: $(call fuzz_objs,h2_headers,lf)
	$(FUZZ_CLANG) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lpthread

$(FUZZ_BUILD)/fuzz_h2_frames: $(call fuzz_objs,h2_frames,lf)
	$(FUZZ_CLANG) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_h2_frames_LIBS)

$(FUZZ_BUILD)/fuzz_trailer: $(call fuzz_objs,trailer,lf)
	$(FUZZ_CLANG) $(FUZZ_LF_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_trailer_LIBS)

# The source it includes.
$(FUZZ_BUILD)/lf/fuzz_trailer.o $(FUZZ_BUILD)/rp/fuzz_trailer.o: src/upstream_h1.c

# ---- replay build ($(CC), no libFuzzer) ---------------------------------------------------
$(FUZZ_BUILD)/rp/src/%.o: src/%.c $(FUZZ_HDRS) | $(LLHTTP_INC)/llhttp.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) $(OURFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/rp/llhttp/%.o: $(LLHTTP_SRC)/%.c Makefile | $(LLHTTP_INC)/llhttp.h
	@mkdir -p $(dir $@)
	$(CC) -I$(LLHTTP_INC) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) $(LLFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/rp/%.o: $(FUZZ_DIR)/%.c $(FUZZ_HDRS) | $(LLHTTP_INC)/llhttp.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) $(OURFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/rp/unit/%.o: tests/unit/%.c $(FUZZ_HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) $(OURFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/replay_tls_handshake: $(FUZZ_BUILD)/rp/replay.o $(call fuzz_objs,tls_handshake,rp)
	$(CC) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) -o $@ $^ $(FUZZ_tls_handshake_LIBS) -lpthread

# The seed writer of corpus/tls_handshake (plain build: it only makes files).
$(FUZZ_BUILD)/make_tls_seeds: $(FUZZ_DIR)/make_tls_seeds.c tests/unit/tls_fixtures.c tests/unit/tls_fixtures.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OURFLAGS) -o $@ $(FUZZ_DIR)/make_tls_seeds.c tests/unit/tls_fixtures.c -lssl -lcrypto

$(FUZZ_BUILD)/replay_request: $(FUZZ_BUILD)/rp/replay.o $(call fuzz_objs,request,rp)
	$(CC) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) -o $@ $^ -lpthread

$(FUZZ_BUILD)/replay_config: $(FUZZ_BUILD)/rp/replay.o $(call fuzz_objs,config,rp)
	$(CC) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) -o $@ $^ -lpthread

$(FUZZ_BUILD)/replay_proxy_proto: $(FUZZ_BUILD)/rp/replay.o $(call fuzz_objs,proxy_proto,rp)
	$(CC) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) -o $@ $^ -lpthread

$(FUZZ_BUILD)/replay_h2_headers: $(FUZZ_BUILD)/rp/replay.o $(call fuzz_objs,h2_headers,rp)
	$(CC) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) -o $@ $^ -lpthread

$(FUZZ_BUILD)/replay_h2_frames: $(FUZZ_BUILD)/rp/replay.o $(call fuzz_objs,h2_frames,rp)
	$(CC) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) -o $@ $^ $(FUZZ_h2_frames_LIBS)

$(FUZZ_BUILD)/replay_trailer: $(FUZZ_BUILD)/rp/replay.o $(call fuzz_objs,trailer,rp)
	$(CC) $(FUZZ_RP_CFLAGS) $(FUZZ_RP_SAN) -o $@ $^ $(FUZZ_trailer_LIBS)

# ---- targets ------------------------------------------------------------------------------
fuzz-build: $(foreach n,$(FUZZ_NAMES),$(FUZZ_BUILD)/fuzz_$(n))

# Each harness in turn (two cores: one at a time unless FUZZ_OPTS says -jobs);
# new inputs go to a scratch directory first, then only those that reach new
# edges (-use_counters=0: hit counts do not count) are merged into the
# corpus, which keeps it small.  Inputs that crash land in crashes/; once
# the bug is fixed they move into the corpus as regression tests (the
# "fixed-*" files).
fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/crashes
	@rc=0; for n in $(FUZZ_NAMES); do \
	    new=$(FUZZ_BUILD)/new/$$n; rm -rf $$new; mkdir -p $$new $(FUZZ_DIR)/corpus/$$n; \
	    echo "fuzz_$$n: $(FUZZ_SECONDS)s (log: $(FUZZ_BUILD)/fuzz_$$n.log)"; \
	    dict=; [ -f $(FUZZ_DIR)/$$n.dict ] && dict=-dict=$(FUZZ_DIR)/$$n.dict; \
	    if ! $(FUZZ_BUILD)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) $$dict \
	            -artifact_prefix=$(FUZZ_DIR)/crashes/$$n- -print_final_stats=1 $(FUZZ_OPTS) \
	            $$new $(FUZZ_DIR)/corpus/$$n >$(FUZZ_BUILD)/fuzz_$$n.log 2>&1; then \
	        rc=1; tail -n 80 $(FUZZ_BUILD)/fuzz_$$n.log; \
	        echo "fuzz_$$n: FAILED: input saved in $(FUZZ_DIR)/crashes/"; \
	    else \
	        grep -E '^#[0-9]+' $(FUZZ_BUILD)/fuzz_$$n.log | tail -n 1; \
	        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' $(FUZZ_BUILD)/fuzz_$$n.log; \
	    fi; \
	    $(FUZZ_BUILD)/fuzz_$$n -merge=1 -use_counters=0 $(FUZZ_DIR)/corpus/$$n $$new >>$(FUZZ_BUILD)/fuzz_$$n.log 2>&1 || rc=1; \
	    echo "fuzz_$$n: corpus $$(ls $(FUZZ_DIR)/corpus/$$n | wc -l) files, $$(du -sk --apparent-size $(FUZZ_DIR)/corpus/$$n | cut -f1) KiB"; \
	done; exit $$rc

# Replays every corpus file: the regression test.
fuzz-replay: $(foreach n,$(FUZZ_NAMES),$(FUZZ_BUILD)/replay_$(n))
	@rc=0; out=$(FUZZ_BUILD)/replay.out; : >$$out; \
	for n in $(FUZZ_NAMES); do \
	    $(FUZZ_ENV) $(FUZZ_BUILD)/replay_$$n fuzz_$$n $(FUZZ_DIR)/corpus/$$n >$$out.1 || rc=1; \
	    cat $$out.1; cat $$out.1 >>$$out; \
	done; \
	awk '/ passed, / { p += $$2; f += $$4 } END { printf "fuzz-replay: %d passed, %d failed\n", p, f }' $$out; \
	exit $$rc

# The inputs of known, unfixed crashes (files named NAME-crash-..., NAME-leak-...).
fuzz-crashes: $(foreach n,$(FUZZ_NAMES),$(FUZZ_BUILD)/replay_$(n))
	@rc=0; for n in $(FUZZ_NAMES); do \
	    files=$$(ls $(FUZZ_DIR)/crashes/$$n-* 2>/dev/null); \
	    [ -z "$$files" ] && continue; \
	    $(FUZZ_ENV) $(FUZZ_BUILD)/replay_$$n fuzz_$$n $$files || rc=1; \
	done; exit $$rc

fuzz-tls-seeds: $(FUZZ_BUILD)/make_tls_seeds
	@mkdir -p $(FUZZ_DIR)/corpus/tls_handshake
	$(FUZZ_BUILD)/make_tls_seeds $(FUZZ_DIR)/corpus/tls_handshake
	@echo "corpus/tls_handshake: $$(ls $(FUZZ_DIR)/corpus/tls_handshake/seed-* | wc -l) seeds"

# The seeds of corpus/h2_frames: python3-h2 is importable by Debian's python only.
fuzz-h2-seeds:
	@mkdir -p $(FUZZ_DIR)/corpus/h2_frames
	/usr/bin/python3 $(FUZZ_DIR)/make_h2_seeds.py
	@echo "corpus/h2_frames: $$(ls $(FUZZ_DIR)/corpus/h2_frames/seed-* | wc -l) seeds"

# Rebuilds each corpus as the smallest set of its files with the same coverage.
fuzz-cmin: fuzz-build
	@for n in $(FUZZ_NAMES); do \
	    old=$(FUZZ_BUILD)/cmin/$$n; rm -rf $$old; mkdir -p $$old; \
	    cp -p $(FUZZ_DIR)/corpus/$$n/* $$old/; rm -f $(FUZZ_DIR)/corpus/$$n/*; \
	    $(FUZZ_BUILD)/fuzz_$$n -merge=1 -use_counters=0 $(FUZZ_DIR)/corpus/$$n $$old >$(FUZZ_BUILD)/cmin_$$n.log 2>&1 || \
	        { cp -p $$old/* $(FUZZ_DIR)/corpus/$$n/; tail -n 20 $(FUZZ_BUILD)/cmin_$$n.log; exit 1; }; \
	    echo "fuzz_$$n: $$(ls $$old | wc -l) -> $$(ls $(FUZZ_DIR)/corpus/$$n | wc -l) files"; \
	done
