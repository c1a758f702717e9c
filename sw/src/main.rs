//! The `phasegen` command line: train, eval, bench-train, generate, verify,
//! report, asic, infer, serve, plot, memory, r2nn, reduce.

use clap::{Parser, Subcommand};
use phasegen::cmd;

#[derive(Parser)]
#[command(
    name = "phasegen",
    version,
    about = "Oscillator neural networks trained with Equilibrium Propagation, turned into FPGA hardware"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Command,
}

/// One variant per command; each command's help is its `Args`' doc comment.
#[derive(Subcommand)]
enum Command {
    Train(cmd::train::Args),
    BenchTrain(cmd::bench_train::Args),
    BenchAp(cmd::bench_ap::Args),
    BenchLearn(cmd::bench_learn::Args),
    Capacity(cmd::capacity::Args),
    BenchSim(cmd::bench_sim::Args),
    Eval(cmd::eval::Args),
    Quantize(cmd::quantize::Args),
    Sweep(cmd::sweep::Args),
    Pll(cmd::pll::Args),
    Gen(cmd::gen::Args),
    Verify(cmd::verify::Args),
    Report(cmd::report::Args),
    Asic(cmd::asic::Args),
    Infer(cmd::infer::Args),
    Memory(cmd::memory::Args),
    Serve(cmd::serve::Args),
    Plot(cmd::plot::Args),
    R2nn(cmd::r2nn::Args),
    Reduce(cmd::reduce::Args),
    /// Jobs of a sweep (`jobs task`: what a Slurm array task runs).
    #[command(subcommand)]
    Jobs(JobsCommand),
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Run one task of a task list (`tasks.json` in a results folder).
    Task(phasegen::jobs::TaskArgs),
}

fn main() {
    let result = match Cli::parse().cmd {
        Command::Train(a) => cmd::train::run(a),
        Command::BenchTrain(a) => cmd::bench_train::run(a),
        Command::BenchAp(a) => cmd::bench_ap::run(a),
        Command::BenchLearn(a) => cmd::bench_learn::run(a),
        Command::Capacity(a) => cmd::capacity::run(a),
        Command::BenchSim(a) => cmd::bench_sim::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Quantize(a) => cmd::quantize::run(a),
        Command::Sweep(a) => cmd::sweep::run(a),
        Command::Pll(a) => cmd::pll::run(a),
        Command::Gen(a) => cmd::gen::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Asic(a) => cmd::asic::run(a),
        Command::Infer(a) => cmd::infer::run(a),
        Command::Memory(a) => cmd::memory::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Plot(a) => cmd::plot::run(a),
        Command::R2nn(a) => cmd::r2nn::run(a),
        Command::Reduce(a) => cmd::reduce::run(a),
        Command::Jobs(JobsCommand::Task(a)) => phasegen::jobs::run_task(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_flag_says_what_it_does_and_its_default() {
        let cli = <super::Cli as clap::CommandFactory>::command();
        let short = phasegen::cmd::undocumented_args(&cli);
        assert!(short.is_empty(), "help to write:\n{}", short.join("\n"));
    }
}
