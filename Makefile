# ticketsweep: lottery-ticket sweeps on MPI + parallel HDF5 + OpenBLAS.
#
#   make            build build/ticketsweep
#   make run        install missing Debian packages, build, run jobs/demo.ini under mpirun
#   make test       install missing packages, build, run the whole test suite
#   make bench      benchmarks (ratios against references measured in the same run)
#   make DEBUG=1    AddressSanitizer + UndefinedBehaviorSanitizer build
#
# User CFLAGS/LDFLAGS are appended to ours, never replace them.

CC      = mpicc
PKGS    = hdf5-openmpi openblas zlib inih
BUILD  ?= build

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wpointer-arith -Wformat=2 -Wno-unused-parameter
ifeq ($(DEBUG),1)
OPT     = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
          -fno-sanitize-recover=undefined
BUILD   = build-debug
else
OPT     = -O3 -march=x86-64-v2 -g
endif
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -iquote include $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(OPT) $(LDFLAGS)
LIBS        = $(PKG_LIBS) -lm -pthread

# Every module but main goes into a static library the tests link against.
LIB_SRC  = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

NP ?= $(shell nproc)
MPIRUN = OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none

.PHONY: all deps run test test-unit test-cluster bench fuzz clean
all: $(BUILD)/ticketsweep

deps:
	@tools/deps.sh

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libticketsweep.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/ticketsweep: $(BUILD)/obj/main.o $(BUILD)/libticketsweep.a
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/check.h $(BUILD)/libticketsweep.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -iquote tests $< $(BUILD)/libticketsweep.a $(ALL_LDFLAGS) $(LIBS) -o $@

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

run: deps
	@$(MAKE) --no-print-directory all
	$(MPIRUN) -np $(NP) $(BUILD)/ticketsweep run jobs/demo.ini -o demo.h5 --force

test: deps
	@$(MAKE) --no-print-directory all tests-bin
	@BUILD=$(BUILD) tests/run.sh

tests-bin: $(TEST_BIN)

# Real Slurm (a one-node cluster started by the test) and multi-host MPI (network
# namespaces) tests: tests/cluster/test_*.sh. Needs root.
test-cluster:
	@DEPS_EXTRA="slurm-wlm slurmctld slurmd slurm-client munge octave" tools/deps.sh
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) TEST_DIR=tests/cluster tests/run.sh

# Benchmarks: the references (PyTorch, mpi4py) come from Debian too.
BENCH_BIN = $(BUILD)/bench_train $(BUILD)/bench_sched $(BUILD)/bench_conv2
bench: deps
	@DEPS_EXTRA="python3-torch python3-mpi4py time" tools/deps.sh
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@BUILD=$(BUILD) tools/bench.sh

$(BUILD)/bench_%: tools/bench_%.c $(BUILD)/libticketsweep.a
	$(CC) $(ALL_CFLAGS) -iquote tools $< $(BUILD)/libticketsweep.a $(ALL_LDFLAGS) $(LIBS) -o $@

# Fuzzing: libFuzzer harnesses in tests/fuzz/ built with clang against the
# parser sources (no MPI, no HDF5), each run for FUZZ_SECONDS, one job, niced.
# New inputs go to $(FUZZ_DIR)/corpus_*, crashes to $(FUZZ_DIR)/crash-*; keep
# each crash as tests/fuzz/regress_*/ (replayed by tests/test_fuzz_regress.c).
FUZZ_SECONDS ?= 60
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -iquote include $(shell pkg-config --cflags zlib inih 2>/dev/null)
FUZZ_LIBS     = $(shell pkg-config --libs zlib inih 2>/dev/null)

fuzz: $(FUZZ_DIR)/fuzz_config $(FUZZ_DIR)/fuzz_idx
	@for h in config idx; do \
	    mkdir -p $(FUZZ_DIR)/corpus_$$h || exit 1; \
	    dict=; [ -f tests/fuzz/$$h.dict ] && dict=-dict=tests/fuzz/$$h.dict; \
	    echo "fuzz_$$h: $(FUZZ_SECONDS) s"; \
	    nice -n 10 $(FUZZ_DIR)/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/ $$dict $(FUZZ_DIR)/corpus_$$h tests/fuzz/corpus_$$h \
	        || exit 1; \
	done

$(FUZZ_DIR)/fuzz_config: tests/fuzz/fuzz_config.c src/config.c src/err.c include/config.h include/err.h | $(FUZZ_DIR)
	clang $(FUZZ_CFLAGS) tests/fuzz/fuzz_config.c src/config.c src/err.c $(FUZZ_LIBS) -o $@

$(FUZZ_DIR)/fuzz_idx: tests/fuzz/fuzz_idx.c src/idx.c src/err.c include/idx.h include/err.h | $(FUZZ_DIR)
	clang $(FUZZ_CFLAGS) tests/fuzz/fuzz_idx.c src/idx.c src/err.c $(FUZZ_LIBS) -o $@

$(FUZZ_DIR):
	mkdir -p $@

# the regression test replays saved inputs through the harnesses' entry points
$(BUILD)/tests/test_fuzz_regress: tests/fuzz/fuzz_config.c tests/fuzz/fuzz_idx.c

clean:
	rm -rf build build-debug

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/main.d
