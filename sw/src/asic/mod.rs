//! The ASIC half: the generated core through qflow's open standard-cell
//! flow to a routed, timed, checked layout, and its gate-level netlist
//! simulated against the integer twin (docs/asic.md).

pub mod cells;
pub mod flow;
pub mod netlist;
pub mod report;
pub mod table;
pub mod tech;
