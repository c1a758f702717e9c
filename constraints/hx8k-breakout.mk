# Lattice iCE40-HX8K Breakout Board (ICE40HX8K-B-EVN): iCE40 HX8K in the
# CT256 package, 12 MHz oscillator. Included for BOARD=hx8k-breakout.
FAMILY        := ice40
DEVICE        := hx8k
PACKAGE       := ct256
# HX parts have no DSP blocks: no -dsp (multipliers are built from LUTs).
SYNTH_FLAGS   :=
BOARD_CLOCK_HZ := 12000000
PINS          := constraints/hx8k-breakout.pcf
BOARD_TOP     := hx8k_breakout_top
# make prog: iceprog writes the SPI flash (the jumper setting the board ships
# with); PROG_FLAGS=-S loads the FPGA directly, with the jumpers moved to the
# CRAM setting of the board's user guide (see docs/boards.md).
PROG_TOOL     := iceprog
