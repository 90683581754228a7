# Vigil build. `make` builds bin/vigil-operator and bin/vigil-sensor; `make SAN=1` builds the
# ASan+UBSan flavour into build/san and bin/san. `make help` lists the targets.
#
# Sources are discovered by folder, so a new module needs no Makefile edit:
#   lib/**.c        -> build/lib.a        (shared by operator and sensor)
#   operator/**.c   -> build/operator.a   (operator/main.c is the program)
#   sensor/**.c     -> build/sensor.a     (sensor/main.c is the program)
#   bpf/*.bpf.c     -> build/include/<name>.skel.h (libbpf skeletons, sensor only)
#   unit/test_*.c   -> build/unit/test_*  (cmocka; linked with all three archives)

VERSION := $(shell cat VERSION)
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PKGS := libcurl jansson yaml-0.1 libwebsockets libbpf libelf openssl zlib

ifeq ($(SAN),1)
B := build/san
BIN := bin/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
else
B := build/rel
BIN := bin
SANFLAGS :=
OPT := -O2
endif

CFLAGS_BASE := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-D_GNU_SOURCE -DVIGIL_VERSION='"$(VERSION)"' -I. -I$(B)/include \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS += $(CFLAGS_BASE) $(SANFLAGS)
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcap -lpthread -lm
LDFLAGS += $(SANFLAGS)

LIB_SRCS := $(shell find lib -name '*.c' 2>/dev/null | sort)
OP_SRCS := $(filter-out operator/main.c,$(shell find operator -name '*.c' 2>/dev/null | sort))
SE_SRCS := $(filter-out sensor/main.c,$(shell find sensor -name '*.c' 2>/dev/null | sort))
BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(B)/include/%.skel.h,$(BPF_SRCS))
UNIT_SRCS := $(wildcard unit/test_*.c)
UNIT_BINS := $(patsubst unit/%.c,$(B)/unit/%,$(UNIT_SRCS))

LIB_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS))
OP_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(OP_SRCS))
SE_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(SE_SRCS))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# Keep generated skeletons and BPF objects (they are intermediates of the C objects).
.SECONDARY:
.PHONY: all deps test test-unit test-e2e cluster-up cluster-down cluster-build clean fmt lint \
	bench bench-sensor bench-operator bench-rollout demo help version

all: $(BIN)/vigil-operator $(BIN)/vigil-sensor

help:
	@echo 'make                 build bin/vigil-operator and bin/vigil-sensor'
	@echo 'make SAN=1           the same with ASan+UBSan into bin/san/'
	@echo 'make deps            install the Debian packages the build and tests need'
	@echo 'make test            unit tests and end-to-end tests (the CI command)'
	@echo 'make test-unit       cmocka unit tests only'
	@echo 'make test-e2e        end-to-end tests against a local cluster'
	@echo 'make cluster-up      start etcd, kube-apiserver, controllers, scheduler, kwok nodes'
	@echo 'make cluster-down    stop what cluster-up started and remove its state'
	@echo 'make bench           benchmarks (numbers printed, nothing asserted)'
	@echo 'make fmt / lint      clang-format / cppcheck'

version:
	@echo $(VERSION)

deps:
	@./tools/deps.sh

$(B)/include/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file $${VIGIL_VMLINUX_BTF:-/sys/kernel/btf/vmlinux} format c > $@

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(B)/include/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I. -Ibpf -I$(B)/include -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(B)/include/%.skel.h: $(B)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(B)/obj/%.o: %.c $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/lib.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/operator.a: $(OP_OBJS)
	$(Q)mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/sensor.a: $(SE_OBJS)
	$(Q)mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/vigil-operator: $(B)/obj/operator/main.o $(B)/operator.a $(B)/lib.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/vigil-sensor: $(B)/obj/sensor/main.o $(B)/sensor.a $(B)/lib.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/unit/%: unit/%.c $(B)/operator.a $(B)/sensor.a $(B)/lib.a $(wildcard unit/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Iunit -o $@ $< $(B)/operator.a $(B)/sensor.a $(B)/lib.a $(LDFLAGS) $(LDLIBS) -lcmocka

test-unit: $(UNIT_BINS)
	@./unit/run.sh $(UNIT_BINS)

CI_FUZZ_SECONDS ?= 20

test-e2e: all
	@VIGIL_BIN=$(CURDIR)/$(BIN) ./e2e/run.sh

# The CI command: everything under ASan+UBSan, the unit tests once more under valgrind, the fuzz
# targets for a bounded time, then the end-to-end tests (sanitizer binaries) on a local cluster.
test:
	@$(MAKE) --no-print-directory -j2 SAN=1 all $(patsubst build/rel/%,build/san/%,$(UNIT_BINS))
	@$(MAKE) --no-print-directory SAN=1 test-unit
	@$(MAKE) --no-print-directory -j2 all $(UNIT_BINS)
	@VALGRIND=1 ./unit/run.sh $(UNIT_BINS)
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS) FUZZ_FLAGS=-seed=1
	@$(MAKE) --no-print-directory SAN=1 test-e2e

cluster-build:
	@./cluster/build.sh

cluster-up:
	@./cluster/up.sh

cluster-down:
	@./cluster/down.sh

demo:
	@./e2e/demo.sh

fmt:
	@find lib operator sensor bpf unit -name '*.[ch]' | xargs clang-format -i

lint:
	@cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem -I. lib operator sensor

clean:
	rm -rf build bin

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- rollout (issue 6): the simulated sensor fleet of the rollout e2e tests -------------------
$(BIN)/vigil-simfleet: $(B)/obj/e2e/simfleet/simfleet.o $(B)/operator.a $(B)/sensor.a $(B)/lib.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

all: $(BIN)/vigil-simfleet

# ---- sensor benchmark (sensor area) ----
UPSTREAM_RULES ?= $(firstword $(wildcard ../shared/upstream-rules/falco_rules.yaml \
	/work/shared/upstream-rules/falco_rules.yaml))

$(B)/bench/sensor_bench: bench/sensor_bench.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< -lm

# Real probe, upstream rules, a load generator at known rates (numbers printed, not asserted).
# BENCH_SENSOR_ARGS e.g. "--seconds 10 --rates 50000,200000 --preset 6".
bench-sensor: $(BIN)/vigil-sensor $(B)/bench/sensor_bench
	@$(B)/bench/sensor_bench --sensor $(BIN)/vigil-sensor --rules $(UPSTREAM_RULES) \
		$(BENCH_SENSOR_ARGS)

# --- rules engine (issue 3): `make bench-rules` (also part of `make bench`) and `make fuzz` -----
RULES_BENCH_DIR ?= $(firstword $(wildcard ../shared/upstream-rules /work/shared/upstream-rules))
FUZZ_SECONDS ?= 30
FUZZ_B := build/fuzz
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -D_GNU_SOURCE -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
RULES_SRCS := $(wildcard lib/rules/*.c)
FUZZ_TARGETS := rules_load cond_parse trace_line

.PHONY: bench-rules fuzz

$(B)/bench/rules_bench: bench/rules_bench.c $(B)/lib.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(B)/lib.a $(LDFLAGS) $(LDLIBS)

bench-rules: $(B)/bench/rules_bench
	@if [ -z "$(RULES_BENCH_DIR)" ]; then \
		echo "bench-rules: upstream rules not found (set RULES_BENCH_DIR=DIR): skipped"; \
	else $(B)/bench/rules_bench $(RULES_BENCH_DIR); fi

bench: bench-rules

$(FUZZ_B)/fuzz_%: fuzz/fuzz_%.c $(RULES_SRCS) $(wildcard lib/rules/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(RULES_SRCS) $(LDLIBS)

# Each target runs FUZZ_SECONDS on a scratch copy of its seed corpus; a crash fails the target and
# leaves the reproducer in build/fuzz/.
fuzz: $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
		rm -rf $(FUZZ_B)/corpus-$$t && mkdir -p $(FUZZ_B)/corpus-$$t && \
		cp fuzz/corpus/$$t/* $(FUZZ_B)/corpus-$$t/ && \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s" && \
		$(FUZZ_B)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 $(FUZZ_FLAGS) \
			-rss_limit_mb=2048 -artifact_prefix=$(FUZZ_B)/ -print_final_stats=1 \
			$(FUZZ_B)/corpus-$$t 2>$(FUZZ_B)/fuzz_$$t.log || \
			{ tail -40 $(FUZZ_B)/fuzz_$$t.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units' $(FUZZ_B)/fuzz_$$t.log || true; \
	done

# --- rollout (issue 6): `make bench-rollout` (controller path on a simulated cluster) ------------
$(B)/bench/rollout_bench: bench/rollout_bench.c $(B)/operator.a $(B)/lib.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(B)/operator.a $(B)/lib.a $(LDFLAGS) $(LDLIBS)

bench-rollout: $(B)/bench/rollout_bench
	@$(B)/bench/rollout_bench $(ROLLOUT_BENCH_ARGS)

# --- operator core (issue 5): `make bench-operator` (needs the local cluster: make cluster-up) ---
# RSS/CPU while caching 1,000 SensorNodes + 100 RuleSets, RuleSet-change-to-bundle latency p50/p99.
bench-operator: $(BIN)/vigil-operator
	@python3 e2e/operator/bench.py --operator $(BIN)/vigil-operator $(OPERATOR_BENCH_ARGS)

bench: bench-operator
