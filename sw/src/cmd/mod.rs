//! The commands of the `phasegen` command line, one file per command or
//! command family (the pattern of cargo's and ripgrep's CLIs). Each file
//! has its `Args` struct (clap `#[derive(Args)]`; its doc comment is the
//! command's help) and a `run(args) -> anyhow::Result<()>`; `main.rs` only
//! parses the command line and calls the `run` of the command given.
//! Helpers that several commands use are in [`common`].
//!
//! Every argument has a description, and an optional one that takes a value
//! either has a clap default or says in its description what it falls back
//! to, "(default: ...)"; [`undocumented_args`] finds those that do not, and
//! a test in `main.rs` runs it over the whole command line.

pub mod asic;
pub mod bench_ap;
pub mod bench_learn;
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
pub mod r2nn_deploy;
pub mod reduce;
pub mod report;
pub mod serve;
pub mod sweep;
pub mod train;
pub mod train_onchip;
pub mod verify;

/// Every argument of `cmd` and of its subcommands (recursively) whose help
/// falls short, one line each naming the command and the flag: an argument
/// without a description, or an optional one that takes a value and has
/// neither a clap default (shown as `[default: …]`) nor the word "default"
/// in its description (saying what it falls back to). Clap's own help and
/// version flags are skipped; switches and required arguments need only a
/// description.
pub fn undocumented_args(cmd: &clap::Command) -> Vec<String> {
    let mut found = Vec::new();
    walk(cmd, cmd.get_name(), &mut found);
    found
}

fn walk(cmd: &clap::Command, path: &str, found: &mut Vec<String>) {
    use clap::ArgAction;
    for arg in cmd.get_arguments() {
        if matches!(
            arg.get_action(),
            ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
        ) {
            continue;
        }
        let name = match arg.get_long() {
            Some(l) => format!("--{l}"),
            None => format!("<{}>", arg.get_id()),
        };
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        if help.trim().is_empty() {
            found.push(format!("{path} {name}: no description"));
        } else if arg.get_action().takes_values()
            && !arg.is_required_set()
            && arg.get_default_values().is_empty()
            && !help.to_lowercase().contains("default")
        {
            found.push(format!(
                "{path} {name}: optional, but neither a clap default nor \"(default: ...)\" in its description"
            ));
        }
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() != "help" {
            walk(sub, &format!("{path} {}", sub.get_name()), found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::undocumented_args;
    use clap::{Arg, ArgAction, Command};

    #[test]
    fn the_walk_names_each_short_help() {
        let cli = Command::new("t")
            .arg(Arg::new("quiet").long("quiet").action(ArgAction::SetTrue))
            .subcommand(
                Command::new("run")
                    .arg(Arg::new("in").long("in").required(true).help("Input."))
                    .arg(Arg::new("n").long("n").help("Count.").default_value("3"))
                    .arg(Arg::new("seed").long("seed").help("Seed."))
                    .arg(Arg::new("out").long("out").help("Output (default: none)."))
                    .arg(
                        Arg::new("fast")
                            .long("fast")
                            .action(ArgAction::SetTrue)
                            .help("Fast."),
                    )
                    .subcommand(Command::new("deep").arg(Arg::new("x").long("x"))),
            );
        assert_eq!(
            undocumented_args(&cli),
            [
                "t --quiet: no description",
                "t run --seed: optional, but neither a clap default nor \"(default: ...)\" in its description",
                "t run deep --x: no description",
            ]
        );
    }
}
