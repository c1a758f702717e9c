# ULX3S with the LFE5U-25F-6BG381C (ECP5 25k LUTs, CABGA381, speed grade 6),
# 25 MHz oscillator. Included for BOARD=ulx3s-25f; the pins and the board
# top are those of every ULX3S.
FAMILY        := ecp5
DEVICE        := 25k
PACKAGE       := CABGA381
SPEED         := 6
# synth_ecp5 maps multipliers to MULT18X18D by default.
SYNTH_FLAGS   :=
BOARD_CLOCK_HZ := 25000000
PINS          := constraints/ulx3s.lpf
BOARD_TOP     := ulx3s_top
# make prog: openFPGALoader loads the FPGA (SRAM) through the FT231X's JTAG;
# PROG_FLAGS=-f writes the flash instead.
PROG_TOOL     := openFPGALoader
PROG_BOARD    := ulx3s
