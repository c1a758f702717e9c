//! The commands of the `phasegen` command line, one file per command or
//! command family (the pattern of cargo's and ripgrep's CLIs). Each file
//! has its `Args` struct (clap `#[derive(Args)]`; its doc comment is the
//! command's help) and a `run(args) -> anyhow::Result<()>`; `main.rs` only
//! parses the command line and calls the `run` of the command given.
//! Helpers that several commands use are in [`common`].

pub mod bench_sim;
pub mod bench_train;
pub mod capacity;
pub mod common;
pub mod eval;
pub mod gen;
pub mod infer;
pub mod memory;
pub mod pll;
pub mod plot;
pub mod quantize;
pub mod r2nn;
pub mod report;
pub mod serve;
pub mod sweep;
pub mod train;
pub mod verify;
