//! phasegen host side: CLI commands, cosimulation, UART client, reports.

pub mod asic;
pub mod bench;
pub mod bench_ap;
pub mod bench_learn;
pub mod bench_sim;
pub mod capacity;
pub mod cmd;
pub mod confusion;
pub mod cosim;
pub mod ctlsim;
pub mod device;
pub mod fusesoc;
pub mod grid;
pub mod hil_device;
pub mod jobs;
pub mod learnsim;
pub mod memory_onchip;
pub mod netlist;
pub mod onchip_device;
pub mod plot;
pub mod progress;
pub mod report;
pub mod report_html;
pub mod sweep;
pub mod uartsim;
