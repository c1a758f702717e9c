//! `phasegen asic`: the generated core through qflow's standard-cell flow
//! (`flow`), its gate-level netlist against the twin (`verify`), and the
//! report of the layout (`report`). docs/asic.md.

use super::common::{count_of, load_model};
use crate::asic::flow::{self, Settings, ALL};
use crate::asic::netlist::{build, netlist_cells, netlist_path};
use crate::asic::report::write_report;
use crate::asic::table::{make_table, Network, Options as TableOptions};
use crate::asic::tech::Tech;
use crate::cosim::{verify_sample, CoreSim, Plan};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use phasegen_sim::data::load_dir;
use phasegen_sim::twin::quant::beta_int;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The ASIC flow: qflow (Yosys, graywolf, qrouter, OpenSTA, magic, netgen)
/// on the OSU standard cells, the gate-level netlist against the twin, and
/// the layout's report.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    what: AsicCommand,
}

pub fn run(args: Args) -> Result<()> {
    match args.what {
        AsicCommand::Flow(a) => run_flow(a),
        AsicCommand::Verify(a) => run_verify(a),
        AsicCommand::Report(a) => run_report(a),
        AsicCommand::Table(a) => run_table(a),
    }
}

#[derive(Subcommand, Debug)]
enum AsicCommand {
    Flow(FlowArgs),
    Verify(VerifyArgs),
    Report(ReportArgs),
    Table(TableArgs),
}

/// Run qflow's stages on Verilog from `phasegen gen --target asic`, in a
/// qflow project folder: synthesis, placement, STA, routing, STA with the
/// routed wires, the layout database, DRC, LVS, then the GDS (magic) and
/// OpenSTA's setup, hold and power. Each stage's time goes to
/// DIR/stages.json; a failing stage stops the flow, naming its logs.
#[derive(clap::Args, Debug)]
struct FlowArgs {
    /// The generated Verilog (`phasegen gen --target asic --out GEN`).
    #[arg(long)]
    gen: PathBuf,
    /// The qflow project folder (created; source/, synthesis/, layout/, log/).
    #[arg(long)]
    dir: PathBuf,
    /// Standard-cell technology: osu018 or osu035 (qflow-tech-*).
    #[arg(long, default_value = "osu018")]
    tech: String,
    /// Top module: pg_core (the settle core) or pg_top (with the UART
    /// protocol).
    #[arg(long, default_value = "pg_core")]
    top: String,
    /// Clock target in MHz: what STA checks and power is estimated at.
    #[arg(long, default_value_t = 50.0, allow_negative_numbers = true)]
    clock_mhz: f64,
    /// Divide graywolf's placement attempts per cell by this (its
    /// TWSC*fast parameter): 1 is graywolf's own schedule; more is faster,
    /// with longer wires (docs/asic.md has the measured trade).
    #[arg(long, default_value_t = 10)]
    place_fast: u32,
    /// graywolf's random seed (default: the technology's, 12345 for the
    /// OSU libraries); another seed is another placement and routing.
    #[arg(long)]
    seed: Option<u32>,
    /// Run qrouter's cleanup stage (every net rerouted twice for shorter
    /// wires; measured: three times the routing time, and where Debian's
    /// qrouter left defects; docs/asic.md).
    #[arg(long)]
    route_cleanup: bool,
    /// The share of the cell rows the cells fill (qflow's initial_density;
    /// lower leaves the router more room; default: none, as dense as
    /// graywolf packs them).
    #[arg(long, allow_negative_numbers = true)]
    density: Option<f64>,
    /// Toggle probability of every net per clock cycle for the power
    /// estimate.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    activity: f64,
    /// Run only these stages, comma-separated, in the flow's order (default:
    /// all of synthesize,place,sta,route,backanno,migrate,drc,lvs,gds,opensta).
    #[arg(long, value_delimiter = ',')]
    stages: Vec<String>,
    /// The cells' layouts (a GDS file) to put into the GDS (default: none,
    /// the cells' LEF abstracts: Debian ships no OSU cell layouts).
    #[arg(long)]
    cell_gds: Option<PathBuf>,
    /// qflow's driver.
    #[arg(long, default_value = "qflow")]
    qflow: PathBuf,
    /// OpenSTA.
    #[arg(long, default_value = "sta")]
    sta: PathBuf,
    /// magic.
    #[arg(long, default_value = "magic")]
    magic: PathBuf,
}

fn run_flow(a: FlowArgs) -> Result<()> {
    let tech = Tech::find(&a.tech)?;
    let s = Settings {
        qflow: a.qflow,
        sta: a.sta,
        magic: a.magic,
        cell_gds: a.cell_gds,
        tech,
        top: a.top,
        clock_mhz: a.clock_mhz,
        place_fast: a.place_fast,
        seed: a.seed,
        route_cleanup: a.route_cleanup,
        density: a.density,
        activity: a.activity,
        limit_s: None,
    };
    s.check()?;
    let stages: Vec<&str> = if a.stages.is_empty() {
        ALL.to_vec()
    } else {
        a.stages.iter().map(String::as_str).collect()
    };
    // the first stage lays out the project; later ones run in it
    if stages.first() == Some(&"synthesize") {
        flow::prepare(&a.dir, &a.gen, &s)?;
    } else if !a.dir.join("qflow_vars.sh").is_file() {
        bail!(
            "{} is not a qflow project yet; run the flow from its first stage (synthesize)",
            a.dir.display()
        );
    }
    eprintln!(
        "asic: {} on {} at {} MHz in {} (logs in {})",
        s.top,
        s.tech.name,
        s.clock_mhz,
        a.dir.display(),
        a.dir.join("log").display()
    );
    let t0 = Instant::now();
    flow::run(&a.dir, &s, &stages, |st, done| match done {
        None => eprintln!("asic: {st} ..."),
        Some(r) => eprintln!(
            "asic: {st} done in {:.1} s (CPU {:.1} s)",
            r.wall_s, r.cpu_s
        ),
    })?;
    eprintln!(
        "asic: {} stages in {:.1} s; times in {}",
        stages.len(),
        t0.elapsed().as_secs_f64(),
        a.dir.join("stages.json").display()
    );
    Ok(())
}

/// The flow's gate-level netlist of pg_core (qflow's synthesis, the netlist
/// that is placed, routed and compared with the layout) under Verilator
/// with the technology's cell models, against the twin, every phase of
/// every step, free and nudged, starting from random power-up states.
/// Prints TESTBENCH OK.
#[derive(clap::Args, Debug)]
struct VerifyArgs {
    /// The model file the flow's Verilog was generated from.
    #[arg(long)]
    model: PathBuf,
    /// The qflow project folder of `phasegen asic flow` (top pg_core).
    #[arg(long)]
    dir: PathBuf,
    /// Free steps to compare per sample (then 20 nudged steps).
    #[arg(long, default_value_t = 50)]
    steps: u32,
    /// Test samples to run, each from its own random power-up state.
    #[arg(long, default_value_t = 2)]
    samples: usize,
}

fn run_verify(a: VerifyArgs) -> Result<()> {
    let (mf, hw) = load_model(&a.model)?;
    let cfg = &mf.config;
    let stages: flow::Stages = serde_json::from_str(
        &std::fs::read_to_string(a.dir.join("stages.json")).with_context(|| {
            format!(
                "cannot read {} (run `phasegen asic flow` first)",
                a.dir.join("stages.json").display()
            )
        })?,
    )?;
    if stages.top != "pg_core" {
        bail!(
            "the flow in {} built {}; the gate-level check drives pg_core (run the flow with --top pg_core)",
            a.dir.display(),
            stages.top
        );
    }
    // the flow must have run on this model's ASIC Verilog
    let want =
        phasegen_hdl::generate_core_files_for(phasegen_hdl::Target::Asic, &cfg.hash_hex(), &hw);
    let src = a.dir.join("source/pg_core.v");
    let have =
        std::fs::read_to_string(&src).with_context(|| format!("cannot read {}", src.display()))?;
    if have != want[0].text {
        bail!(
            "{} is not the ASIC Verilog of {} (another model, or FPGA Verilog): run the flow on `phasegen gen --target asic --model {}`",
            src.display(),
            a.model.display(),
            a.model.display()
        );
    }
    let tech = Tech::find(&stages.tech)?;
    let netlist = netlist_path(&a.dir, "pg_core");
    let cells = netlist_cells(&netlist, &tech)?;
    let t = Instant::now();
    let built = build(
        &netlist,
        &tech,
        &crate::asic::cells::yosys(),
        "pg_core",
        &phasegen_hdl::core_ports(&hw),
    )?;
    eprintln!(
        "verilated the {} netlist ({} cells) in {:.1} s",
        tech.name,
        cells.values().sum::<u64>(),
        t.elapsed().as_secs_f64()
    );
    let split = load_dir(Path::new(&cfg.train.data))?;
    let beta = beta_int(&hw.fmt, cfg.train.beta);
    for s in 0..count_of(a.samples, split.test.len()) {
        let seed = 1 + s as u32;
        let mut sim = CoreSim::new_random(&built, hw.n(), seed)?;
        let x = hw.inputs_of_image(split.test.image(s));
        let label = split.test.labels[s] as usize;
        let t = Instant::now();
        let plan = Plan {
            free_steps: a.steps,
            nudge_steps: 20,
            beta,
            label,
            fault: None,
        };
        match verify_sample(&mut sim, &hw, &x, &plan)? {
            Ok(r) => eprintln!(
                "sample {s} (power-up seed {seed}): {} steps bit-exact at gate level (free and nudged), {:.0} cycles/step; class {} ({:.1} s)",
                r.steps_compared,
                r.cycles_per_step,
                r.class,
                t.elapsed().as_secs_f64()
            ),
            Err(m) => bail!("gate-level netlist {}: {m}", netlist.display()),
        }
    }
    println!("TESTBENCH OK");
    Ok(())
}

/// The report of a finished flow: cells by type, die and core area,
/// utilization, the memories' flip-flops, setup and hold and Fmax, power,
/// routing, DRC and LVS results, the GDS, the stage times; as STEM.md and
/// STEM.json. Fails, after writing both, when timing is not met at the
/// clock target, a route failed, or DRC or LVS is not clean.
#[derive(clap::Args, Debug)]
struct ReportArgs {
    /// The qflow project folder of `phasegen asic flow`.
    #[arg(long)]
    dir: PathBuf,
    /// Output stem: writes STEM.md and STEM.json.
    #[arg(long)]
    out: PathBuf,
    /// The model file, for the time and energy of one inference (default:
    /// none, not reported).
    #[arg(long)]
    model: Option<PathBuf>,
}

fn run_report(a: ReportArgs) -> Result<()> {
    let hw = match &a.model {
        Some(m) => Some(load_model(m)?.1),
        None => None,
    };
    let r = write_report(&a.dir, &a.out, hw.as_ref())?;
    let stem = a.out.display();
    println!("== {} on {} ==", r.top, r.tech);
    println!("gds         {} ({})", r.gds, r.gds_contents);
    println!("report      {stem}.md ({stem}.json)");
    for l in r.summary_lines() {
        println!("            {l}");
    }
    Ok(())
}

/// The ASIC and FPGA figures of the same networks side by side (the table
/// of docs/asic.md): per network and technology, qflow's synthesis and
/// OpenSTA before placement (cells, area, memories, Fmax, power, time and
/// energy of one inference); per network and board, Yosys and nextpnr
/// (`make report`). The parameters are each config's initial ones
/// (training changes ROM contents, not their size). Writes OUT.md and
/// OUT.json.
#[derive(clap::Args, Debug)]
struct TableArgs {
    /// The networks' configs (repeat the flag; default: configs/digits.toml,
    /// configs/asic/full-64.toml, configs/mnist-100.toml).
    #[arg(long)]
    config: Vec<PathBuf>,
    /// Technologies, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "osu018,osu035")]
    tech: Vec<String>,
    /// FPGA boards, comma-separated (none: `--board ''`).
    #[arg(long, value_delimiter = ',', default_value = "icebreaker,ulx3s-85f")]
    board: Vec<String>,
    /// Clock target in MHz the power is estimated at.
    #[arg(long, default_value_t = 50.0, allow_negative_numbers = true)]
    clock_mhz: f64,
    /// Toggle probability of every net per clock cycle for the power
    /// estimate.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    activity: f64,
    /// Working folder (one qflow project per network and technology, one
    /// FPGA build folder per network and board; kept, so that a rerun
    /// reuses unchanged syntheses).
    #[arg(long, default_value = "build/asic/table")]
    dir: PathBuf,
    /// Output stem: writes OUT.md and OUT.json.
    #[arg(long, default_value = "build/asic/table/table")]
    out: PathBuf,
    /// qflow's driver.
    #[arg(long, default_value = "qflow")]
    qflow: PathBuf,
    /// OpenSTA.
    #[arg(long, default_value = "sta")]
    sta: PathBuf,
    /// make, for the FPGA builds (run in the current folder: the
    /// repository's root).
    #[arg(long, default_value = "make")]
    make: String,
    /// Stop a network's synthesis after this many seconds (0: no limit);
    /// its row then has the written memories' size only.
    #[arg(long, default_value_t = 1800)]
    synth_limit: u64,
}

fn run_table(a: TableArgs) -> Result<()> {
    let configs = if a.config.is_empty() {
        [
            "configs/digits.toml",
            "configs/asic/full-64.toml",
            "configs/mnist-100.toml",
        ]
        .map(PathBuf::from)
        .to_vec()
    } else {
        a.config.clone()
    };
    if !(a.clock_mhz.is_finite() && a.clock_mhz > 0.0) {
        bail!(
            "--clock-mhz {}: give a positive frequency, e.g. 50",
            a.clock_mhz
        );
    }
    if !(a.activity > 0.0 && a.activity <= 1.0) {
        bail!(
            "--activity {}: give the toggle probability per clock cycle, above 0 and at most 1 (e.g. 0.1)",
            a.activity
        );
    }
    let boards: Vec<String> = a.board.iter().filter(|b| !b.is_empty()).cloned().collect();
    for b in &boards {
        phasegen_sim::board::board(b)?;
    }
    if !boards.is_empty() {
        crate::capacity::check_root()?;
    }
    for t in &a.tech {
        Tech::find(t)?;
    }
    let nets = configs
        .iter()
        .map(|c| Network::load(c))
        .collect::<Result<Vec<_>>>()?;
    let o = TableOptions {
        techs: a.tech.clone(),
        boards,
        clock_mhz: a.clock_mhz,
        activity: a.activity,
        dir: a.dir.clone(),
        qflow: a.qflow.clone(),
        sta: a.sta.clone(),
        make: a.make.clone(),
        synth_limit_s: (a.synth_limit > 0).then_some(a.synth_limit as f64),
    };
    let mut command = String::from("phasegen asic table");
    for c in &a.config {
        command.push_str(&format!(" --config {}", c.display()));
    }
    if a.tech != ["osu018", "osu035"] {
        command.push_str(&format!(" --tech {}", a.tech.join(",")));
    }
    if a.board != ["icebreaker", "ulx3s-85f"] {
        command.push_str(&format!(" --board '{}'", a.board.join(",")));
    }
    if a.clock_mhz != 50.0 {
        command.push_str(&format!(" --clock-mhz {}", a.clock_mhz));
    }
    if a.activity != 0.1 {
        command.push_str(&format!(" --activity {}", a.activity));
    }
    if a.synth_limit != 1800 {
        command.push_str(&format!(" --synth-limit {}", a.synth_limit));
    }
    let t = make_table(&nets, &o, &command)?;
    let with = |suffix: &str| {
        let mut s = a.out.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let (md, js) = (with(".md"), with(".json"));
    if let Some(d) = md.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let text = t.to_markdown();
    std::fs::write(&md, &text).with_context(|| format!("cannot write {}", md.display()))?;
    std::fs::write(&js, t.to_json()).with_context(|| format!("cannot write {}", js.display()))?;
    print!("{text}");
    eprintln!("wrote {} and {}", md.display(), js.display());
    Ok(())
}
