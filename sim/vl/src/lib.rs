//! Verilator bridge.
