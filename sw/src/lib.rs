//! phasegen host side: CLI commands, cosimulation, UART client, reports.

pub mod cosim;
pub mod report;
