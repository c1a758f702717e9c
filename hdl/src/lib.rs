//! phasegen Verilog generator.
