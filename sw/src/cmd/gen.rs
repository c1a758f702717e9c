//! `phasegen gen`: the Verilog of a trained model.

use super::common::load_model_report;
use anyhow::{bail, Context, Result};
use phasegen_hdl::Target;
use std::path::PathBuf;

/// Generate the Verilog for a trained model (pg_top.v, the modules it
/// uses, and pg_pll.v for the board top).
#[derive(clap::Args)]
pub struct Args {
    /// The model file (from `phasegen train`).
    #[arg(long)]
    model: PathBuf,
    /// Output folder (pg_top.v and the modules it uses).
    #[arg(long)]
    out: PathBuf,
    /// What the Verilog is for: `fpga` (the board's Yosys flow: registers
    /// with power-on values, RAM-kind attributes, and pg_pll.v for the board
    /// top) or `asic` (a standard-cell flow: plain RTL without power-on
    /// values or attributes, no pg_pll.v; docs/asic.md).
    #[arg(long, value_enum, default_value_t = GenTarget::Fpga)]
    target: GenTarget,
    /// The core clock pg_top's UART divider is computed for, in Hz; only
    /// with --target asic, where it is the clock the layout is timed at
    /// (default: the config's core clock, target.clock_hz on its board).
    #[arg(long)]
    clock_hz: Option<u64>,
    /// Also write a FuseSoC core (`<name>.core`, CAPI2) with the board top
    /// and pin file beside the generated files: `fusesoc --cores-root OUT
    /// run --target=<board>` builds the bitstream, `--target=synth`
    /// synthesizes, and other cores can depend on `pg_top` (FPGA only).
    #[arg(long)]
    fusesoc: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GenTarget {
    Fpga,
    Asic,
}

pub fn run(args: Args) -> Result<()> {
    let Args {
        model,
        out,
        target,
        clock_hz,
        fusesoc,
    } = args;
    let (mf, hw, rep) = load_model_report(&model)?;
    for w in rep.warnings() {
        eprintln!("{w}");
    }
    let cfg = &mf.config;
    let target = match target {
        GenTarget::Fpga => Target::Fpga,
        GenTarget::Asic => Target::Asic,
    };
    if fusesoc && target == Target::Asic {
        bail!("--fusesoc describes an FPGA build (board top, pins, bitstream); leave out --target asic");
    }
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let plan = cfg.clock_plan()?;
    let (config_hash, model_hash) = (cfg.hash_hex(), phasegen_hdl::model_hash(&hw));
    let id = phasegen_hdl::design_id(&config_hash, &hw);
    let core_hz = match (target, clock_hz) {
        (Target::Fpga, Some(hz)) => bail!(
            "--clock-hz {hz} is for --target asic; an FPGA design's clock is the config's target.clock_hz on its board (retrain with `phasegen train --clock-hz {hz}`)"
        ),
        (Target::Fpga, None) => {
            eprintln!("clock of board {}: {}", plan.board, plan.describe());
            plan.core_clock_hz()
        }
        (Target::Asic, Some(0)) => {
            bail!("--clock-hz 0: give the core clock in Hz, e.g. --clock-hz 50000000")
        }
        (Target::Asic, hz) => {
            let hz = hz.unwrap_or_else(|| plan.core_clock_hz());
            eprintln!("ASIC core clock for the UART divider: {hz} Hz");
            hz
        }
    };
    let baud = cfg.target.baud;
    if phasegen_hdl::uart::clocks_per_bit(core_hz, baud) < 4 {
        bail!(
            "a core clock of {core_hz} Hz gives the UART fewer than 4 clocks per bit at target.baud = {baud}; give a clock of at least {} Hz",
            4 * baud
        );
    }
    // docs/protocol.md, "design_id": the recipe and what Identify reports
    eprintln!(
        "design id {id:08x} (SHA-256 of \"{config_hash}/{model_hash}\": config {config_hash}, model {model_hash}); an Infer runs {} steps",
        hw.steps
    );
    let mut files =
        phasegen_hdl::generate_design_for(target, &cfg.hash_hex(), id, &hw, core_hz, baud);
    if target == Target::Fpga {
        files.push(phasegen_hdl::generate_pll(&cfg.hash_hex(), &hw, &plan));
    }
    for f in &files {
        let p = out.join(&f.name);
        std::fs::write(&p, &f.text).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    if hw.axis {
        eprintln!(
            "hardware.interface = \"axis\": pg_top has AXI4-Stream byte ports (s_axis_*, m_axis_*) and no UART; instantiate it in your design (docs/hardware.md), no board top fits it"
        );
    }
    if fusesoc {
        let board = phasegen_sim::board::board(plan.board)?;
        let bf = crate::fusesoc::board_files(board.name).with_context(|| {
            format!(
                "board {}: no board top to put in a FuseSoC core",
                board.name
            )
        })?;
        let sources: Vec<String> = files
            .iter()
            .filter(|f| f.name.ends_with(".v") && f.name != "pg_pll.v")
            .map(|f| f.name.clone())
            .collect();
        let hex: Vec<String> = files
            .iter()
            .filter(|f| f.name.ends_with(".hex"))
            .map(|f| f.name.clone())
            .collect();
        let description = format!(
            "phasegen design {} ({}-{}), design id {id:08x}, for {} at {} Hz",
            cfg.name,
            cfg.network.inputs,
            cfg.network
                .layers
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join("-"),
            board.name,
            core_hz
        );
        let core = crate::fusesoc::core_file(&crate::fusesoc::Core {
            name: &cfg.name,
            description: &description,
            board,
            files: &bf,
            sources: &sources,
            hex: &hex,
            pll: "pg_pll.v",
            clock_mhz: core_hz as f64 / 1e6,
            board_targets: !hw.axis,
        });
        for (name, text) in [
            (format!("{}.v", bf.top_name), bf.top_text.to_string()),
            (bf.pins_name.to_string(), bf.pins_text.to_string()),
            (format!("{}.core", cfg.name), core),
        ] {
            let p = out.join(&name);
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(())
}
