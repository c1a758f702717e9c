//! phasegen host side: CLI commands, cosimulation, UART client, reports.

pub mod bench;
pub mod bench_sim;
pub mod capacity;
pub mod cosim;
pub mod device;
pub mod hil_device;
pub mod netlist;
pub mod plot;
pub mod plot_cmd;
pub mod r2nn_cmd;
pub mod report;
pub mod sweep;
pub mod uartsim;
