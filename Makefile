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

test-e2e: all
	@VIGIL_BIN=$(CURDIR)/$(BIN) ./e2e/run.sh

# The CI command: everything under ASan+UBSan, then the unit tests once more under valgrind.
test:
	@$(MAKE) --no-print-directory -j2 SAN=1 all $(patsubst build/rel/%,build/san/%,$(UNIT_BINS))
	@$(MAKE) --no-print-directory SAN=1 test-unit
	@$(MAKE) --no-print-directory -j2 all $(UNIT_BINS)
	@VALGRIND=1 ./unit/run.sh $(UNIT_BINS)
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
