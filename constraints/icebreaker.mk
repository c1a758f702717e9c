# iCEBreaker v1.0: iCE40 UP5K in the SG48 package, 12 MHz oscillator.
# Included by the Makefile for BOARD=icebreaker.
FAMILY        := ice40
DEVICE        := up5k
PACKAGE       := sg48
# UP5K parts have SB_MAC16 DSPs; HX/LP parts do not (leave this empty there,
# or nextpnr fails with "no BELs remaining" for ICESTORM_DSP).
SYNTH_FLAGS   := -dsp -spram
BOARD_CLOCK_HZ := 12000000
PINS          := constraints/icebreaker.pcf
BOARD_TOP     := icebreaker_top
# make prog: iceprog writes the SPI flash through the FTDI's first channel.
PROG_TOOL     := iceprog
