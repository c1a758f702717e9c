//! The TOML configuration: network shape, training settings, hardware formats
//! and the target board. One file describes one design; its hash names the
//! generated hardware.
//!
//! Every field has a default so a config only states what differs, and every
//! value is validated with a message that names the field, the value and the
//! allowed range.

use crate::board::pll::ClockPlan;
use crate::board::{board, up5k};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The embedded default: the digits network that `make bitstream` builds.
pub const DEFAULT_CONFIG: &str = include_str!("../../configs/digits.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Design name: file names under `build/<board>/<name>.*`.
    pub name: String,
    pub network: NetworkConfig,
    #[serde(default)]
    pub train: TrainConfig,
    #[serde(default)]
    pub hardware: HardwareConfig,
    #[serde(default)]
    pub target: TargetConfig,
}

/// A layered network: an input field (not oscillators) feeding the first
/// layer, then oscillator layers coupled to their neighbours; the last layer
/// is the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Number of inputs (pixels); must match the data set.
    pub inputs: usize,
    /// Oscillator layer sizes, hidden layers first, the output layer last.
    pub layers: Vec<usize>,
    /// Coupling inside each layer as well as between adjacent layers.
    #[serde(default)]
    pub intralayer: bool,
    /// The oscillator model: `phase` (MODEL.md section 1, the one the
    /// hardware implements) or `amplitude-phase` (section 4: complex
    /// amplitudes in the Stuart-Landau normal form, trained and evaluated
    /// in floating point only; docs/training.md). Left out of the
    /// canonical form when `phase`, so older configs keep their hashes.
    #[serde(default, skip_serializing_if = "Oscillator::is_phase")]
    pub oscillator: Oscillator,
    /// Linear gain `μ` of every amplitude-phase oscillator (an uncoupled
    /// one settles at amplitude `√μ`). Left out of the canonical form at
    /// its default, 1.
    #[serde(default = "one_f64", skip_serializing_if = "is_one_f64")]
    pub mu: f64,
}

/// The oscillator model of a network (`network.oscillator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Oscillator {
    /// Phase oscillators (MODEL.md section 1).
    #[default]
    Phase,
    /// Amplitude-phase oscillators (MODEL.md section 4).
    AmplitudePhase,
}

impl Oscillator {
    fn is_phase(&self) -> bool {
        *self == Oscillator::Phase
    }

    /// The name a config gives it.
    pub fn name(&self) -> &'static str {
        match self {
            Oscillator::Phase => "phase",
            Oscillator::AmplitudePhase => "amplitude-phase",
        }
    }
}

fn one_f64() -> f64 {
    1.0
}

fn is_one_f64(v: &f64) -> bool {
    *v == 1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Data folder in the MNIST IDX layout (relative to the working directory).
    pub data: String,
    pub epochs: usize,
    pub batch: usize,
    /// Learning rate for W and U.
    pub lr: f64,
    /// Learning rate for h and K.
    pub lr_bias: f64,
    pub momentum: f64,
    /// Nudge strength.
    pub beta: f64,
    /// Symmetric nudging (+beta and -beta) instead of one-sided.
    pub symmetric: bool,
    /// Euler time step.
    pub eps: f64,
    /// Free settling steps.
    pub t1: usize,
    /// Nudged settling steps.
    pub t2: usize,
    /// Relative natural-frequency dispersion (standard deviation of delta-omega).
    pub dispersion: f64,
    /// Phase noise sigma.
    pub noise: f64,
    /// Seed for weights, initial phases, dispersion, shuffling and noise.
    pub seed: u64,
    /// Initial second-harmonic locking strength K.
    pub k_init: f64,
    /// Use at most this many training samples (0 = all).
    pub max_train: usize,
    /// Parameter update rule.
    pub optimizer: Optimizer,
    /// Learning-rate schedule over the run.
    pub lr_schedule: Schedule,
    /// Final learning rate of the cosine schedule, as a fraction of lr.
    pub lr_min: f64,
    /// Sign of beta: always +beta, or a random sign per mini-batch.
    pub beta_sign: BetaSign,
    /// Convergence stop: end a settle once no phase moves more than tol
    /// (rad) in a step (0 = always run t1 / t2 steps).
    pub tol: f64,
    /// Clip W, U, h, K to the range of the hardware format after every
    /// update (needs hardware.weight_frac).
    pub clip: bool,
    /// Decoupled weight decay of W and U (AdamW style): every update also
    /// moves each weight by −lr · weight_decay · weight (0 = off).
    pub weight_decay: f64,
    /// Data augmentation: shift each training image by a random amount,
    /// uniform in -augment..augment pixels on both axes (bilinear
    /// interpolation, zeros shifted in), new every epoch (0 = off).
    pub augment: f64,
    /// Fraction of the training samples (after max_train) held out as a
    /// validation set: drawn from the seed before training, never trained
    /// on, evaluated after every epoch (0 = no validation set). Left out of
    /// the canonical form when 0, so older configs keep their hashes.
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub validation: f64,
    /// Which epoch's parameters the model file gets: the last one, or the
    /// one of best validation accuracy (needs `validation`). Left out of the
    /// canonical form when `last`, so older configs keep their hashes.
    #[serde(skip_serializing_if = "Keep::is_last")]
    pub keep: Keep,
    /// Sakaguchi phase lag α (rad) of the coupling function
    /// `H(ψ) = sin(ψ − α) + Σ a_n sin nψ` (docs/reduction.md); 0 = the
    /// gradient model of MODEL.md section 1. Left out of the canonical
    /// form when 0, so older configs keep their hashes.
    #[serde(skip_serializing_if = "is_zero_f64")]
    pub alpha: f64,
    /// `[a_2, a_3, …]`: coefficients of the extra odd terms `sin 2ψ,
    /// sin 3ψ, …` of the coupling function (empty = none). Left out of the
    /// canonical form when all are 0.
    #[serde(skip_serializing_if = "all_zero")]
    pub harmonics: Vec<f64>,
    /// With `alpha`: add `sin α` to the coupling function, so that
    /// `H(0) = 0` as for a coupling element between two nodes (no
    /// frequency pull between oscillators in phase). Left out of the
    /// canonical form when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub diffusive: bool,
}

/// Most extra harmonics of the coupling function (`train.harmonics`: a_2 … a_9).
pub const MAX_HARMONICS: usize = 8;

/// Which epoch's parameters training writes (`train.keep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// The parameters after the last epoch.
    Last,
    /// The parameters after the epoch of highest validation accuracy (ties:
    /// the lower validation cost, then the earlier epoch).
    Best,
}

impl Keep {
    fn is_last(&self) -> bool {
        *self == Keep::Last
    }
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

fn all_zero(v: &[f64]) -> bool {
    v.iter().all(|&a| a == 0.0)
}

/// How parameters move against the EP gradient estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// SGD with momentum `train.momentum`.
    Sgd,
    /// Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8).
    Adam,
}

/// Learning rate as a function of training progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    Constant,
    /// Cosine decay from lr to lr * lr_min over all mini-batches.
    Cosine,
}

/// Sign of the nudge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BetaSign {
    Fixed,
    /// +beta or -beta, drawn per mini-batch from the seed.
    Random,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            data: "data/digits-8x8".into(),
            epochs: 30,
            batch: 16,
            lr: 0.001,
            lr_bias: 0.001,
            momentum: 0.8,
            beta: 1.0,
            symmetric: true,
            eps: 0.25,
            t1: 40,
            t2: 15,
            dispersion: 0.0,
            noise: 0.0,
            seed: 1,
            k_init: 0.0,
            max_train: 0,
            optimizer: Optimizer::Adam,
            lr_schedule: Schedule::Cosine,
            lr_min: 0.0,
            beta_sign: BetaSign::Fixed,
            tol: 0.0,
            clip: false,
            augment: 0.0,
            weight_decay: 0.0,
            validation: 0.0,
            keep: Keep::Last,
            alpha: 0.0,
            harmonics: Vec::new(),
            diffusive: false,
        }
    }
}

/// Fixed-point formats of the generated hardware (see docs/hardware.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HardwareConfig {
    /// P: phase accumulator bits (one turn = 2^P).
    pub phase_bits: u32,
    /// L: the sine table has 2^L entries.
    pub table_bits: u32,
    /// S: signed amplitude bits of the sine table.
    pub amp_bits: u32,
    /// Signed bits of every parameter (W, U, h, K, beta).
    pub weight_bits: u32,
    /// Fractional bits of the parameters; 0 lets the quantizer choose from
    /// the trained weights' range.
    pub weight_frac: u32,
    /// Fractional bits of the coupling weights W and of the input weights
    /// U (each at least the shared one); 0 lets the quantizer choose from
    /// the group's range. Pinned, a design keeps its formats while its
    /// weights change (device-in-the-loop training pins them itself).
    /// Left out of the canonical form when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub w_frac: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub u_frac: u32,
    /// Unsigned bits of each input (pixel).
    pub input_bits: u32,
    /// Signed bits of the saturated operands fed to the drive multiplier.
    pub drive_bits: u32,
    /// Settle steps the device runs for one inference; 0 (the default) =
    /// as long a settle as the float model's: `ceil(t1 · eps / eps_hw)`,
    /// since the hardware's Euler step is a power of two and not `eps`.
    pub steps: u32,
    /// Parallel multiply-accumulate lanes of the coupling and field loops:
    /// each lane is two multipliers (W cos θ_j and W sin θ_j).
    pub lanes: u32,
    /// Common natural frequency of the oscillators and of the reference, in
    /// the float model's units (the dispersion is relative to 1): the phase
    /// accumulators advance by ω0 + δω_i every step (absolute frame).
    /// 0 = the reference frame (the phases do not rotate).
    pub omega0: f64,
    /// Oscillators whose phase's top bit drives an output of pg_top
    /// (`o_osc`, 1 to 64 of them), from `pin_first`; absent: the
    /// output layer (its first 64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pins: Option<u32>,
    /// First oscillator on `o_osc`; absent: the first output oscillator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_first: Option<u32>,
    /// Where the input weights U live: in ROM (block RAM filled by the
    /// bitstream), or in RAM the host fills over the UART after
    /// configuration (on the UP5K Yosys places it in SPRAM, which the
    /// bitstream cannot fill). `auto`: RAM on a UP5K when U is larger than
    /// [`U_ROM_LIMIT_BITS`], else ROM.
    pub u_memory: UMemory,
    /// Where the trained parameters live: `rom` (filled by the bitstream,
    /// fixed) or `ram` (the coupling weights W, the per-oscillator constants
    /// and U are RAMs the host can write over the UART with WriteWeights,
    /// powered up with the trained model wherever the memory can be
    /// initialised; needed by `phasegen train --backend device`).
    /// Left out of the canonical form when `rom`, so older configs keep
    /// their hashes.
    #[serde(skip_serializing_if = "ParamMemory::is_rom")]
    pub params: ParamMemory,
    /// Where the coupling weights W live: in ROM (block RAM filled by the
    /// bitstream; writable RAM with `params = "ram"`), or in one RAM of all
    /// lanes per stream word that the host fills over the UART after
    /// configuration (on the UP5K Yosys places it in SPRAM). `auto`: RAM on
    /// a UP5K when W, with U if U stays in ROM, is larger than
    /// [`W_ROM_LIMIT_BITS`], else ROM. Left out of the canonical form when
    /// `auto`, so older configs keep their hashes.
    #[serde(skip_serializing_if = "UMemory::is_auto")]
    pub w_memory: UMemory,
    /// How the coupling stream reads W: `rows` (every row's neighbours,
    /// each weight twice: `W_ij` for row `i` and `W_ji` for row `j`) or
    /// `pairs` (each pair once, its products going to both rows: half the
    /// weight memory and half the cycles per step; needs every pair
    /// coupled, i.e. `network.intralayer = true` and at most two layers).
    /// Left out of the canonical form when `rows`, so older configs keep
    /// their hashes.
    #[serde(skip_serializing_if = "Coupling::is_rows")]
    pub coupling: Coupling,
    /// How requests reach `pg_top`: `uart` (pins `i_uart_rx`, `o_uart_tx`
    /// at `target.baud`, for the board tops) or `axis` (AXI4-Stream byte
    /// ports `s_axis_*`, `m_axis_*` carrying the same frames, for a design
    /// that instantiates `pg_top` inside its own; no board top fits it).
    /// Left out of the canonical form when `uart`, so older configs keep
    /// their hashes.
    #[serde(skip_serializing_if = "Interface::is_uart")]
    pub interface: Interface,
    /// On-chip learning (docs/learning.md): `none`; `ep` (the device
    /// runs every sample's Equilibrium Propagation step itself, the update
    /// included, on `Learn`; needs `params = "ram"` and the rows coupling;
    /// learns with train.beta, symmetric, t1, t2, lr, lr_bias); or
    /// `hebbian` (a fully connected memory imprints the patterns the host
    /// sends, `Imprint`). Left out of the canonical form when `none`, so
    /// older configs keep their hashes.
    #[serde(skip_serializing_if = "Learning::is_none")]
    pub learning: Learning,
    /// With `learning = "ep"`: the extra fraction bits of the shadow
    /// parameters the updates accumulate in (0 to 24). Left out of the
    /// canonical form at its default, 8.
    #[serde(skip_serializing_if = "is_default_shadow")]
    pub shadow_bits: u32,
    /// With `learning = "ep"`: training samples the device can hold in
    /// its sample store (docs/learning.md "The training set on chip"): the
    /// host stores them once (`StoreSample`) and each `Epoch` learns them
    /// all with no UART traffic but its answer. 0 (the default): no
    /// store. Left out of the canonical form when 0.
    #[serde(skip_serializing_if = "is_zero_usize")]
    pub store: usize,
    /// With `learning = "ep"`: what the nudged phase pulls. `class` (the
    /// default): the output oscillators towards the label's class
    /// (`Learn`). `pattern`: a fully connected memory (one layer,
    /// `network.intralayer = true`), every oscillator towards its bit of
    /// the pattern the host sends (`LearnPattern`), the nudge a field
    /// `β t_i`; only W is learned (docs/learning.md "EP trains the memory
    /// on chip"). Left out of the canonical form when `class`.
    #[serde(skip_serializing_if = "Nudge::is_class")]
    pub nudge: Nudge,
}

/// What on-chip EP's nudged phase pulls (`hardware.nudge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Nudge {
    /// The outputs towards the label's class.
    Class,
    /// Every oscillator of a memory towards its bit of a pattern.
    Pattern,
}

impl Nudge {
    fn is_class(&self) -> bool {
        *self == Nudge::Class
    }
}

fn is_zero_usize(v: &usize) -> bool {
    *v == 0
}

/// The most oscillators a Hebbian design may have: a pattern's bits fit
/// one Imprint frame.
pub const MAX_IMPRINT: usize = 255 * 8;

/// The most samples `hardware.store` may hold (Epoch's 16-bit counts).
pub const MAX_STORE: usize = 65535;

/// The default of `hardware.shadow_bits`.
pub const DEFAULT_SHADOW_BITS: u32 = 8;

fn is_default_shadow(v: &u32) -> bool {
    *v == DEFAULT_SHADOW_BITS
}

/// On-chip learning (`hardware.learning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Learning {
    None,
    Ep,
    /// The fully connected memory imprints patterns on chip (`Imprint`):
    /// `W_ij += ξ_i ξ_j / N` per pattern (sim/src/twin/hebb.rs).
    Hebbian,
}

impl Learning {
    fn is_none(&self) -> bool {
        *self == Learning::None
    }
}

/// How requests reach `pg_top` (`hardware.interface`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interface {
    Uart,
    Axis,
}

impl Interface {
    fn is_uart(&self) -> bool {
        *self == Interface::Uart
    }
}

/// How the coupling stream reads W (`hardware.coupling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Coupling {
    Rows,
    Pairs,
}

impl Coupling {
    fn is_rows(&self) -> bool {
        *self == Coupling::Rows
    }
}

/// Where the coupling weights and per-oscillator constants live
/// (`hardware.params`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamMemory {
    Rom,
    Ram,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl ParamMemory {
    fn is_rom(&self) -> bool {
        *self == ParamMemory::Rom
    }
}

/// Where the input weights (`hardware.u_memory`) or the coupling weights
/// (`hardware.w_memory`) live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UMemory {
    Auto,
    Rom,
    Ram,
}

/// `u_memory = "auto"` keeps U in ROM up to this many bits (half the UP5K's
/// 120 kbit of block RAM).
pub const U_ROM_LIMIT_BITS: usize = 60 * 1024;

/// `w_memory = "auto"` keeps W in ROM while W's bits and U's (when U stays
/// in ROM) are at most this many together (16 of the UP5K's 30 block RAMs;
/// the phases, tables and constants take most of the rest).
pub const W_ROM_LIMIT_BITS: usize = 64 * 1024;

impl UMemory {
    fn is_auto(&self) -> bool {
        *self == UMemory::Auto
    }
}

/// Most oscillators on `o_osc` (`hardware.pins`).
pub const MAX_PINS: usize = 64;

impl HardwareConfig {
    /// The oscillators on `o_osc`: `(first, count)` for a network of these
    /// layers.
    pub fn pin_range(&self, layers: &[usize]) -> (usize, usize) {
        let n: usize = layers.iter().sum();
        let outs = *layers.last().unwrap_or(&0);
        let first = self.pin_first.map_or(n - outs, |f| f as usize);
        let count = self.pins.map_or(outs.min(MAX_PINS), |k| k as usize);
        (first, count)
    }

    /// Does U live in RAM loaded at run time, for this network on `board`?
    pub fn u_in_ram(&self, net: &NetworkConfig, board: &str) -> bool {
        match self.u_memory {
            UMemory::Rom => false,
            UMemory::Ram => true,
            UMemory::Auto => {
                let bits = net.layers[0] * net.inputs * self.weight_bits as usize;
                up5k(board) && bits > U_ROM_LIMIT_BITS
            }
        }
    }

    /// Does W live in RAM loaded at run time, for this network (whose
    /// coupling matrix has `entries` nonzero entries, both directions
    /// counted) on `board`?
    pub fn w_in_ram(&self, net: &NetworkConfig, entries: usize, board: &str) -> bool {
        match self.w_memory {
            UMemory::Rom => false,
            UMemory::Ram => true,
            UMemory::Auto => {
                let wb = self.weight_bits as usize;
                let u_rom = if self.u_in_ram(net, board) {
                    0
                } else {
                    net.layers[0] * net.inputs * wb
                };
                up5k(board) && entries * wb + u_rom > W_ROM_LIMIT_BITS
            }
        }
    }
}

impl Default for HardwareConfig {
    fn default() -> Self {
        HardwareConfig {
            phase_bits: 16,
            table_bits: 8,
            amp_bits: 10,
            weight_bits: 8,
            weight_frac: 0,
            w_frac: 0,
            u_frac: 0,
            input_bits: 4,
            drive_bits: 16,
            steps: 0,
            lanes: 1,
            omega0: 1.0,
            pins: None,
            pin_first: None,
            u_memory: UMemory::Auto,
            params: ParamMemory::Rom,
            w_memory: UMemory::Auto,
            coupling: Coupling::Rows,
            interface: Interface::Uart,
            learning: Learning::None,
            nudge: Nudge::Class,
            shadow_bits: DEFAULT_SHADOW_BITS,
            store: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetConfig {
    /// Board name: one of `BOARDS`; selects `constraints/<board>.mk`.
    pub board: String,
    /// Core clock in Hz: the board oscillator, or what the board's PLL
    /// makes from it (within 1 %, see `pll`).
    pub clock_hz: u64,
    /// UART baud rate.
    pub baud: u64,
}

impl Default for TargetConfig {
    fn default() -> Self {
        TargetConfig {
            board: "icebreaker".into(),
            clock_hz: 12_000_000,
            baud: 115_200,
        }
    }
}

impl HardwareConfig {
    /// Multipliers of the generated core: two per lane (`W cos θ_j`, `W sin
    /// θ_j`), four with the pairs stream (and `W cos θ_i`, `W sin θ_i`), two
    /// more per lane for each of the coupling's `harmonics` extra harmonics
    /// (`W cos nθ_j`, `W sin nθ_j`), and four in the drive sequencer (whose
    /// harmonic products are shift-and-add logic, not multipliers).
    /// Synthesis puts each in a DSP block where the part has them.
    pub fn multipliers(&self, harmonics: u32) -> u32 {
        // the learning engine: d x_k and the rate's multiplier
        let learn = if self.learning == Learning::Ep { 2 } else { 0 };
        self.lanes * self.multipliers_per_lane(harmonics) + 4 + learn
    }

    pub fn multipliers_per_lane(&self, harmonics: u32) -> u32 {
        match self.coupling {
            Coupling::Rows => 2 + 2 * harmonics,
            Coupling::Pairs => 4,
        }
    }
}

/// The most fraction bits the coupling's harmonics get in hardware.
pub const MAX_HARM_FRAC: u32 = 24;

/// The coupling's extra harmonics `a_2, a_3, …` as the hardware holds them
/// (docs/hardware.md): `weight_bits` signed integers at `2^-harm_frac`,
/// `harm_frac` the most fraction bits that hold the largest `|a_n|` (at
/// most [`MAX_HARM_FRAC`]), rounded to nearest (ties away from zero);
/// trailing zeros (also those that round to 0) dropped. `(vec![], 0)` for
/// none. The quantizer uses it, and the config's multiplier count.
pub fn quantize_harmonics(a: &[f64], weight_bits: u32) -> (Vec<i64>, u32) {
    let max = a.iter().fold(0f64, |m, &v| m.max(v.abs()));
    if max == 0.0 {
        return (Vec::new(), 0);
    }
    let top = (1i64 << (weight_bits - 1)) - 1;
    let frac = ((top as f64 / max).log2().floor().max(0.0) as u32).min(MAX_HARM_FRAC);
    let mut v: Vec<i64> = a
        .iter()
        .map(|&x| ((x * 2f64.powi(frac as i32)).round() as i64).clamp(-top - 1, top))
        .collect();
    while v.last() == Some(&0) {
        v.pop();
    }
    let frac = if v.is_empty() { 0 } else { frac };
    (v, frac)
}

/// Refuses any `nan` or `inf` in a config, naming its field: TOML allows
/// them, and every float of a config is a finite setting.
fn non_finite(path: &str, v: &toml::Value) -> Result<()> {
    match v {
        toml::Value::Float(x) if !x.is_finite() => bail!(
            "{path} = {x} is not a finite number; give a finite value (or remove the line for the default)"
        ),
        toml::Value::Table(t) => t.iter().try_for_each(|(k, v)| {
            let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            non_finite(&p, v)
        }),
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| non_finite(&format!("{path}[{i}]"), v)),
        _ => Ok(()),
    }
}

impl Config {
    pub fn default_config() -> Config {
        Config::parse(DEFAULT_CONFIG, "<embedded default>")
            .expect("embedded default config is valid")
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Config::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Config> {
        let value: toml::Value =
            toml::from_str(text).with_context(|| format!("config {origin} is not valid TOML"))?;
        non_finite("", &value).with_context(|| format!("config {origin} is invalid"))?;
        let cfg: Config = value
            .try_into()
            .with_context(|| format!("config {origin} is not valid TOML for phasegen"))?;
        cfg.validate()
            .with_context(|| format!("config {origin} is invalid"))?;
        Ok(cfg)
    }

    /// Canonical serialization used for the hash: the same settings give the
    /// same hash whatever the TOML's formatting or field order.
    pub fn canonical(&self) -> String {
        toml::to_string(self).expect("config serializes")
    }

    /// The core clock of the config's target: its board's oscillator, or
    /// what the board's PLL makes of it.
    pub fn clock_plan(&self) -> Result<ClockPlan> {
        crate::board::pll::plan(board(&self.target.board)?, self.target.clock_hz)
    }

    /// First 8 bytes of SHA-256 of the canonical config, as 16 hex digits.
    pub fn hash_hex(&self) -> String {
        let d = Sha256::digest(self.canonical().as_bytes());
        d[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn validate(&self) -> Result<()> {
        fn range<T: PartialOrd + std::fmt::Display + Copy>(
            name: &str,
            v: T,
            lo: T,
            hi: T,
        ) -> Result<()> {
            // (written so that a NaN is out of range too)
            if !(v >= lo && v <= hi) {
                bail!("{name} = {v} is out of range; use a value in {lo}..={hi}");
            }
            Ok(())
        }
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            bail!(
                "name = {:?}: use letters, digits, '_' or '-' (it names output files)",
                self.name
            );
        }
        let n = &self.network;
        range("network.inputs", n.inputs, 1, 4096)?;
        if n.layers.is_empty() {
            bail!(
                "network.layers is empty; give at least the output layer, e.g. layers = [32, 10]"
            );
        }
        for (i, &s) in n.layers.iter().enumerate() {
            range(&format!("network.layers[{i}]"), s, 1, 4096)?;
        }
        if *n.layers.last().unwrap() < 2 {
            bail!("the output layer (last of network.layers) needs at least 2 oscillators, one per class");
        }
        if *n.layers.last().unwrap() > 256 {
            bail!(
                "the output layer (last of network.layers) has {} oscillators; the device reports the class in one byte, so use at most 256 (e.g. add a layer of classes after it)",
                n.layers.last().unwrap()
            );
        }
        range("network.mu", n.mu, 0.01, 10.0)?;
        let t = &self.train;
        match n.oscillator {
            Oscillator::Phase if n.mu != 1.0 => bail!(
                "network.mu = {} is the gain of amplitude-phase oscillators, and this network has phase oscillators (network.oscillator = \"phase\"): remove network.mu, or set network.oscillator = \"amplitude-phase\"",
                n.mu
            ),
            Oscillator::AmplitudePhase if t.k_init != 0.0 => bail!(
                "train.k_init = {} is the phase oscillators' second-harmonic locking, which amplitude-phase oscillators (network.oscillator = \"amplitude-phase\") do not have: remove train.k_init",
                t.k_init
            ),
            _ => {}
        }
        range("train.epochs", t.epochs, 0, 100_000)?;
        range("train.batch", t.batch, 1, 100_000)?;
        range("train.lr", t.lr, 0.0, 100.0)?;
        range("train.lr_bias", t.lr_bias, 0.0, 100.0)?;
        range("train.momentum", t.momentum, 0.0, 0.999)?;
        range("train.beta", t.beta, 1e-6, 100.0)?;
        range("train.eps", t.eps, 1e-6, 2.0)?;
        range("train.t1", t.t1, 1, 1_000_000)?;
        range("train.t2", t.t2, 1, 1_000_000)?;
        range("train.dispersion", t.dispersion, 0.0, 1.0)?;
        range("train.noise", t.noise, 0.0, 10.0)?;
        range("train.k_init", t.k_init, -100.0, 100.0)?;
        range("train.lr_min", t.lr_min, 0.0, 1.0)?;
        range("train.tol", t.tol, 0.0, 1.0)?;
        range("train.augment", t.augment, 0.0, 8.0)?;
        range("train.weight_decay", t.weight_decay, 0.0, 100.0)?;
        range("train.validation", t.validation, 0.0, 0.9)?;
        if t.keep == Keep::Best && t.validation == 0.0 {
            bail!("train.keep = \"best\" chooses the epoch on a validation set, and train.validation = 0 holds none out: set train.validation to the fraction of the training samples to hold out (e.g. 0.1), or keep = \"last\"");
        }
        range(
            "train.alpha",
            t.alpha,
            -std::f64::consts::FRAC_PI_2,
            std::f64::consts::FRAC_PI_2,
        )?;
        if t.harmonics.len() > MAX_HARMONICS {
            bail!(
                "train.harmonics has {} coefficients; give at most {} (a_2 ... a_{} of sin 2ψ ... sin {}ψ)",
                t.harmonics.len(),
                MAX_HARMONICS,
                MAX_HARMONICS + 1,
                MAX_HARMONICS + 1
            );
        }
        for (k, &a) in t.harmonics.iter().enumerate() {
            range(
                &format!("train.harmonics[{k}] (a_{} of sin {}ψ)", k + 2, k + 2),
                a,
                -10.0,
                10.0,
            )?;
        }
        if t.clip && self.hardware.weight_frac == 0 {
            bail!("train.clip = true needs the hardware format to clip to: set hardware.weight_frac (fraction bits of W, U, h, K), or clip = false");
        }
        let h = &self.hardware;
        range("hardware.phase_bits", h.phase_bits, 4, 24)?;
        range("hardware.table_bits", h.table_bits, 3, 12)?;
        if h.table_bits >= h.phase_bits {
            bail!(
                "hardware.table_bits = {} must be below hardware.phase_bits = {}; the table is indexed by the phase's top bits (and those of 2θ)",
                h.table_bits,
                h.phase_bits
            );
        }
        range("hardware.amp_bits", h.amp_bits, 4, 16)?;
        range("hardware.weight_bits", h.weight_bits, 2, 16)?;
        range("hardware.weight_frac", h.weight_frac, 0, 24)?;
        range("hardware.w_frac", h.w_frac, 0, 32)?;
        range("hardware.u_frac", h.u_frac, 0, 32)?;
        range("hardware.input_bits", h.input_bits, 1, 8)?;
        range("hardware.drive_bits", h.drive_bits, 8, 18)?;
        range("hardware.steps", h.steps, 0, 65_535)?;
        range("hardware.lanes", h.lanes, 1, 16)?;
        range("hardware.omega0", h.omega0, 0.0, 100.0)?;
        if h.coupling == Coupling::Pairs {
            let osc: usize = n.layers.iter().sum();
            if !n.intralayer || n.layers.len() > 2 {
                bail!(
                    "hardware.coupling = \"pairs\" streams every pair of oscillators, so it needs a fully connected network (network.intralayer = true and at most two layers; this one has {} layer(s), intralayer = {}); use coupling = \"rows\"",
                    n.layers.len(),
                    n.intralayer
                );
            }
            if osc < 2 * h.lanes as usize {
                bail!(
                    "hardware.coupling = \"pairs\" needs at least 2 x hardware.lanes oscillators (the drive takes two cycles per row of a group); this network has {osc} on {} lanes: use fewer lanes or coupling = \"rows\"",
                    h.lanes
                );
            }
            if h.lanes * h.weight_bits > 128 {
                bail!(
                    "hardware.coupling = \"pairs\" keeps one word of all lanes' weights, at most 128 bits; hardware.lanes = {} x weight_bits = {} is {}: use fewer lanes or narrower weights",
                    h.lanes,
                    h.weight_bits,
                    h.lanes * h.weight_bits
                );
            }
        }
        range("hardware.shadow_bits", h.shadow_bits, 0, 24)?;
        if h.learning == Learning::Hebbian {
            let osc: usize = n.layers.iter().sum();
            if h.params != ParamMemory::Ram
                || h.coupling != Coupling::Rows
                || n.layers.len() > 2
                || !n.intralayer
            {
                bail!(
                    "hardware.learning = \"hebbian\" imprints patterns into a fully connected memory's W in RAM: set network.intralayer = true with one layer (or two, every pair coupled: the last at most 256, the class byte), hardware.params = \"ram\" and hardware.coupling = \"rows\""
                );
            }
            if osc > MAX_IMPRINT {
                bail!(
                    "hardware.learning = \"hebbian\": {osc} oscillators do not fit one Imprint frame (a bit each, at most {MAX_IMPRINT}); use fewer"
                );
            }
        }
        if h.store > 0 && h.learning != Learning::Ep {
            bail!(
                "hardware.store = {} holds training samples for on-chip learning: set hardware.learning = \"ep\" or leave store out",
                h.store
            );
        }
        if h.store > MAX_STORE {
            bail!(
                "hardware.store = {} is more samples than Epoch can count ({MAX_STORE}): use at most {MAX_STORE}",
                h.store
            );
        }
        if h.learning == Learning::Ep {
            if h.params != ParamMemory::Ram || h.coupling != Coupling::Rows {
                bail!(
                    "hardware.learning = \"ep\" updates the parameters in the core's RAM through the rows stream's words: set hardware.params = \"ram\" and hardware.coupling = \"rows\""
                );
            }
            let t = &self.train;
            if t.noise > 0.0 || t.tol > 0.0 || t.t1 == 0 || t.t2 == 0 || t.beta == 0.0 {
                bail!(
                    "hardware.learning = \"ep\" runs train.t1 free and train.t2 nudged steps at train.beta, without noise: train.noise = {} and train.tol = {} must be 0, t1 = {} and t2 = {} at least 1, beta = {} not 0",
                    t.noise,
                    t.tol,
                    t.t1,
                    t.t2,
                    t.beta
                );
            }
            if t.alpha != 0.0 || t.harmonics.iter().any(|&a| a != 0.0) {
                bail!("hardware.learning = \"ep\" learns the coupling H(ψ) = sin ψ: train.alpha and train.harmonics must be 0");
            }
        }
        if h.nudge == Nudge::Pattern {
            let osc: usize = n.layers.iter().sum();
            if h.learning != Learning::Ep {
                bail!("hardware.nudge = \"pattern\" is how on-chip EP trains a memory: set hardware.learning = \"ep\" (or leave nudge out)");
            }
            if n.layers.len() != 1 || !n.intralayer || osc > 256 {
                bail!(
                    "hardware.nudge = \"pattern\" nudges every oscillator of a fully connected memory towards its pattern: set network.layers to one layer of at most 256 oscillators (every oscillator is an output, the class byte) with network.intralayer = true; this network has layers = {:?}, intralayer = {}",
                    n.layers,
                    n.intralayer
                );
            }
            if h.store > 0 {
                bail!(
                    "hardware.store = {} holds labelled samples for Epoch; a memory learns from patterns (LearnPattern): leave store out with nudge = \"pattern\"",
                    h.store
                );
            }
        }
        let (pf, pk) = h.pin_range(&n.layers);
        let osc: usize = n.layers.iter().sum();
        range("hardware.pins", pk, 1, MAX_PINS)?;
        if pf + pk > osc {
            bail!(
                "hardware.pin_first = {pf} with hardware.pins = {pk} reaches past the last oscillator ({}); the network has {osc}",
                osc - 1
            );
        }
        let b = board(&self.target.board).context("target.board")?;
        // the extra harmonics the core computes: train.harmonics' that do
        // not round to 0 (as the model holds them, in f32)
        let a: Vec<f64> = self
            .train
            .harmonics
            .iter()
            .map(|&v| v as f32 as f64)
            .collect();
        let nh = quantize_harmonics(&a, h.weight_bits)
            .0
            .iter()
            .filter(|&&q| q != 0)
            .count() as u32;
        if b.has_dsp() && h.multipliers(nh) > b.dsps {
            bail!(
                "hardware.lanes = {} needs {} multipliers ({} per lane{}, 4 in the drive{}), more than the {} DSP blocks of target.board = \"{}\" (nextpnr could not place them): use at most {} lane(s){}",
                h.lanes,
                h.multipliers(nh),
                h.multipliers_per_lane(nh),
                if h.coupling == Coupling::Pairs {
                    " with coupling = \"pairs\"".to_string()
                } else if nh > 0 {
                    format!(" with {nh} extra harmonic(s) of train.harmonics")
                } else {
                    String::new()
                },
                if h.learning == Learning::Ep {
                    ", 2 in the learning engine"
                } else {
                    ""
                },
                b.dsps,
                b.name,
                (b.dsps.saturating_sub(h.multipliers(nh) - h.lanes * h.multipliers_per_lane(nh))
                    / h.multipliers_per_lane(nh))
                .max(1),
                if nh > 0 && b.dsps < 4 + h.multipliers_per_lane(nh) {
                    ", and fewer train.harmonics (each that does not round to 0 in hardware.weight_bits costs two multipliers per lane)"
                } else {
                    ""
                }
            );
        }
        range(
            "target.clock_hz",
            self.target.clock_hz,
            1_000_000,
            400_000_000,
        )?;
        crate::board::pll::plan(b, self.target.clock_hz)?;
        range("target.baud", self.target.baud, 1200, 12_000_000)?;
        if self.target.clock_hz / self.target.baud < 4 {
            bail!(
                "target.baud = {} is too fast for clock_hz = {}: the UART needs at least 4 clocks per bit",
                self.target.baud,
                self.target.clock_hz
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `w_memory = "auto"` puts W in RAM on a UP5K only when W (with U if U
    /// stays in ROM) outgrows the block RAM budget; `auto` stays out of the
    /// canonical form, so older configs keep their hashes.
    #[test]
    fn w_memory_auto_follows_the_board_and_the_size() {
        let full = |n: usize, board: &str| {
            let mut c = Config::default_config();
            c.network.layers = vec![n];
            c.network.intralayer = true;
            c.target.board = board.into();
            let h = &c.hardware;
            h.w_in_ram(&c.network, n * (n - 1), board)
        };
        assert!(!full(64, "icebreaker"), "64 fully connected fit block RAM");
        assert!(full(90, "icebreaker"));
        assert!(full(256, "icebreaker"));
        assert!(!full(256, "ulx3s-85f"), "only the UP5K has SPRAM");
        let c = Config::default_config();
        assert!(!c.canonical().contains("w_memory"));
        let mut r = c.clone();
        r.hardware.w_memory = UMemory::Ram;
        assert!(r.canonical().contains("w_memory"));
        assert_ne!(r.hash_hex(), c.hash_hex());
        assert!(r.hardware.w_in_ram(&r.network, 640, "ulx3s-85f"));
    }

    /// `train.keep` and `train.validation` stay out of the canonical form
    /// at their defaults (older configs keep their hashes); `keep = "best"`
    /// needs a validation set, and the fraction is range-checked.
    #[test]
    fn keep_and_validation_are_checked_and_hash_neutral() {
        let base = "name='x'\n[network]\ninputs=4\nlayers=[3,2]\n";
        let plain = Config::parse(base, "t").unwrap();
        let explicit = Config::parse(
            &format!("{base}[train]\nkeep='last'\nvalidation=0.0\n"),
            "t",
        )
        .unwrap();
        assert_eq!(plain.hash_hex(), explicit.hash_hex());
        let c = plain.canonical();
        assert!(!c.contains("keep") && !c.contains("validation"), "{c}");
        let best = Config::parse(
            &format!("{base}[train]\nkeep='best'\nvalidation=0.1\n"),
            "t",
        )
        .unwrap();
        assert_eq!(best.train.keep, Keep::Best);
        assert_eq!(best.train.validation, 0.1);
        assert_ne!(best.hash_hex(), plain.hash_hex());
        let e = err(&format!("{base}[train]\nkeep='best'\n"));
        assert!(
            e.contains("train.keep = \"best\"") && e.contains("train.validation = 0"),
            "{e}"
        );
        let e = err(&format!("{base}[train]\nvalidation=1.0\n"));
        assert!(
            e.contains("train.validation = 1") && e.contains("0..=0.9"),
            "{e}"
        );
        assert!(err(&format!("{base}[train]\nvalidation=-0.1\n")).contains("train.validation"));
        assert!(err(&format!("{base}[train]\nkeep='first'\n")).contains("first"));
    }

    /// `network.oscillator` and `network.mu` stay out of the canonical form
    /// at their defaults (older configs keep their hashes); each is refused
    /// by name where it does not apply.
    #[test]
    fn oscillator_kind_is_checked_and_hash_neutral() {
        let base = "name='x'\n[network]\ninputs=4\nlayers=[3,2]\n";
        let plain = Config::parse(base, "t").unwrap();
        assert_eq!(plain.network.oscillator, Oscillator::Phase);
        let explicit = Config::parse(&format!("{base}oscillator='phase'\nmu=1.0\n"), "t").unwrap();
        assert_eq!(plain.hash_hex(), explicit.hash_hex());
        assert!(!plain.canonical().contains("oscillator"));
        let ap = Config::parse(
            &format!("{base}oscillator='amplitude-phase'\nmu=0.5\n"),
            "t",
        )
        .unwrap();
        assert_eq!(ap.network.oscillator, Oscillator::AmplitudePhase);
        assert_eq!(ap.network.mu, 0.5);
        assert_ne!(ap.hash_hex(), plain.hash_hex());
        let e = err(&format!("{base}mu=2.0\n"));
        assert!(
            e.contains("network.mu = 2") && e.contains("amplitude-phase"),
            "{e}"
        );
        let e = err(&format!("{base}oscillator='amplitude-phase'\nmu=0\n"));
        assert!(e.contains("network.mu = 0"), "{e}");
        let e = err(&format!(
            "{base}oscillator='amplitude-phase'\n[train]\nk_init=0.1\n"
        ));
        assert!(e.contains("train.k_init = 0.1"), "{e}");
        assert!(err(&format!("{base}oscillator='stuart'\n")).contains("stuart"));
    }

    /// The coupling function's fields are range-checked by name and stay
    /// out of the canonical form at their defaults.
    #[test]
    fn alpha_and_harmonics_are_checked_and_hash_neutral() {
        let base = "name='x'\n[network]\ninputs=4\nlayers=[3,2]\n";
        let e = err(&format!("{base}[train]\nalpha=2.0\n"));
        assert!(e.contains("train.alpha = 2") && e.contains("1.57"), "{e}");
        let e = err(&format!("{base}[train]\nharmonics=[0.1, 11.0]\n"));
        assert!(e.contains("train.harmonics[1] (a_3 of sin 3ψ) = 11"), "{e}");
        let e = err(&format!("{base}[train]\nharmonics=[0,0,0,0,0,0,0,0,0]\n"));
        assert!(e.contains("at most 8"), "{e}");
        assert!(err(&format!("{base}[train]\nalpha=nan\n")).contains("train.alpha"));
        let plain = Config::parse(base, "t").unwrap();
        let zero =
            Config::parse(&format!("{base}[train]\nalpha=0.0\nharmonics=[0.0]\n"), "t").unwrap();
        assert_eq!(plain.hash_hex(), zero.hash_hex());
        let lag =
            Config::parse(&format!("{base}[train]\nalpha=0.2\nharmonics=[0.1]\n"), "t").unwrap();
        assert!(lag.canonical().contains("alpha") && lag.canonical().contains("harmonics"));
    }

    #[test]
    fn embedded_default_parses() {
        let c = Config::default_config();
        assert_eq!(c.target.board, "icebreaker");
        assert_eq!(c.hardware.pin_range(&c.network.layers), (32, 10));
        assert_eq!(c.hash_hex().len(), 16);
    }

    #[test]
    fn hash_ignores_formatting() {
        let a = Config::parse("name='x'\n[network]\ninputs=4\nlayers=[3,2]\n", "a").unwrap();
        let b = Config::parse(
            "# comment\nname = \"x\"\n\n[network]\nlayers = [ 3, 2 ]\ninputs = 4\n",
            "b",
        )
        .unwrap();
        assert_eq!(a.hash_hex(), b.hash_hex());
        let c = Config::parse("name='x'\n[network]\ninputs=4\nlayers=[3,3]\n", "c").unwrap();
        assert_ne!(a.hash_hex(), c.hash_hex());
    }

    fn err(text: &str) -> String {
        format!("{:#}", Config::parse(text, "t").unwrap_err())
    }

    #[test]
    fn bad_configs_name_the_field() {
        let base = "name='x'\n[network]\ninputs=4\nlayers=[3,2]\n";
        assert!(
            err(&format!("{base}[hardware]\nphase_bits=40\n")).contains("hardware.phase_bits = 40")
        );
        assert!(
            err(&format!("{base}[hardware]\ntable_bits=12\nphase_bits=8\n")).contains("table_bits")
        );
        assert!(err(&format!("{base}[target]\nboard='nope'\n")).contains("unknown board `nope`"));
        assert!(err(&format!("{base}[hardware]\nphase_bitz=8\n")).contains("phase_bitz"));
        assert!(
            err("name='x'\n[network]\ninputs=4\nlayers=[]\n").contains("network.layers is empty")
        );
        assert!(err("name='x'\n[network]\ninputs=4\nlayers=[3,1]\n").contains("output layer"));
        assert!(err("name='a b'\n[network]\ninputs=4\nlayers=[3,2]\n").contains("name"));
        assert!(
            err("name='x'\n[network]\ninputs=4\nlayers=[3,2]\n[target]\nbaud=6000000\n")
                .contains("too fast")
        );
        assert!(err(&format!("{base}[hardware]\nlanes=17\n")).contains("hardware.lanes = 17"));
        assert!(err(&format!("{base}[hardware]\npins=4\n")).contains("reaches past"));
        assert!(err(&format!("{base}[hardware]\nomega0=-1\n")).contains("hardware.omega0"));
    }

    /// TOML allows `nan` and `inf`; every float field refuses them at load,
    /// naming the field (a NaN used to pass the range checks and fail in
    /// training's first epoch).
    #[test]
    fn non_finite_floats_are_refused_by_name() {
        let base = "name='x'\n[network]\ninputs=4\nlayers=[3,2]\n";
        for (table, key) in [
            ("train", "lr"),
            ("train", "beta"),
            ("train", "dispersion"),
            ("train", "noise"),
            ("train", "k_init"),
            ("hardware", "omega0"),
        ] {
            for v in ["nan", "inf", "-inf"] {
                let e = err(&format!("{base}[{table}]\n{key} = {v}\n"));
                assert!(
                    e.contains(&format!("{table}.{key} = ")) && e.contains("not a finite number"),
                    "{table}.{key} = {v}: {e}"
                );
            }
        }
        // a field phasegen does not know is still refused by its name
        let e = err(&format!("{base}[train]\nlr_typo = nan\n"));
        assert!(e.contains("train.lr_typo"), "{e}");
        // and the range check alone refuses a NaN too
        let mut c = Config::default_config();
        c.train.lr = f64::NAN;
        assert!(format!("{:#}", c.validate().unwrap_err()).contains("train.lr = NaN"));
    }

    /// A design with more multipliers than the board's DSP blocks is
    /// refused with the lanes that fit; a part without DSPs takes any.
    #[test]
    fn lanes_fit_the_boards_dsps() {
        let cfg = |lanes: u32, coupling: &str, board: &str| {
            format!("name='x'\n[network]\ninputs=4\nlayers=[30,10]\nintralayer=true\n[hardware]\nlanes={lanes}\ncoupling='{coupling}'\n[target]\nboard='{board}'\nclock_hz={}\n", crate::board::board(board).unwrap().clock_hz)
        };
        let e = err(&cfg(3, "rows", "icebreaker"));
        assert!(
            e.contains("hardware.lanes = 3 needs 10 multipliers")
                && e.contains("at most 2 lane(s)"),
            "{e}"
        );
        assert!(Config::parse(&cfg(2, "rows", "icebreaker"), "t").is_ok());
        let e = err(&cfg(2, "pairs", "icebreaker"));
        assert!(
            e.contains("needs 12 multipliers") && e.contains("at most 1 lane(s)"),
            "{e}"
        );
        assert!(Config::parse(&cfg(1, "pairs", "icebreaker"), "t").is_ok());
        assert!(err(&cfg(7, "pairs", "ulx3s-25f")).contains("at most 6 lane(s)"));
        assert!(Config::parse(&cfg(16, "pairs", "ulx3s-85f"), "t").is_ok());
        assert!(Config::parse(&cfg(16, "pairs", "hx8k-breakout"), "t").is_ok());
        // each extra harmonic costs two multipliers per lane
        let harm = |lanes: u32, a: &str| {
            format!(
                "{}[train]\nharmonics={a}\n",
                cfg(lanes, "rows", "icebreaker")
            )
        };
        assert!(Config::parse(&harm(1, "[0.0, -0.03]"), "t").is_ok());
        let e = err(&harm(2, "[0.0, -0.03]"));
        assert!(
            e.contains("needs 12 multipliers (4 per lane with 1 extra harmonic(s)")
                && e.contains("at most 1 lane(s)"),
            "{e}"
        );
        let e = err(&harm(1, "[0.1, -0.03]"));
        assert!(
            e.contains("needs 10 multipliers") && e.contains("fewer train.harmonics"),
            "{e}"
        );
        // a harmonic that rounds to 0 next to the largest costs nothing
        assert!(Config::parse(&harm(1, "[0.0, -0.035781, 0.0, 0.000068]"), "t").is_ok());
    }

    /// `coupling = "pairs"` is for fully connected networks with enough
    /// oscillators for the lanes and a weight word of at most 128 bits; it
    /// stays out of the canonical form when `rows`.
    #[test]
    fn pairs_coupling_is_checked() {
        let net = |layers: &str, intra: bool| {
            format!("name='x'\n[network]\ninputs=4\nlayers={layers}\nintralayer={intra}\n[hardware]\ncoupling='pairs'\n")
        };
        let e = err(&net("[3,2]", false));
        assert!(
            e.contains("coupling = \"pairs\"") && e.contains("intralayer = false"),
            "{e}"
        );
        assert!(err(&net("[3,3,2]", true)).contains("3 layer(s)"));
        let e = err(&format!("{}lanes=4\n", net("[3,2]", true)));
        assert!(e.contains("has 5 on 4 lanes"), "{e}");
        let e = err(&format!(
            "{}lanes=16\nweight_bits=9\n",
            net("[30,10]", true)
        ));
        assert!(e.contains("144"), "{e}");
        assert!(
            err("name='x'\n[network]\ninputs=4\nlayers=[3,2]\n[hardware]\ncoupling='pair'\n")
                .contains("pair")
        );
        let ok = Config::parse(&net("[3,2]", true), "t").unwrap();
        assert_eq!(ok.hardware.coupling, Coupling::Pairs);
        assert!(ok.canonical().contains("coupling"));
        assert!(!Config::default_config().canonical().contains("coupling"));
    }

    /// `nudge = "pattern"` needs on-chip EP on one fully connected layer of
    /// at most 256 oscillators and no store; it stays out of the canonical
    /// form when `class`.
    #[test]
    fn pattern_nudge_is_checked() {
        let cfg = |net: &str, hw: &str| {
            format!("name='x'\n[network]\ninputs=1\n{net}\n[hardware]\nparams='ram'\nnudge='pattern'\n{hw}\n")
        };
        let one = "layers=[12]\nintralayer=true";
        let e = err(&cfg(one, ""));
        assert!(e.contains("set hardware.learning = \"ep\""), "{e}");
        for net in ["layers=[8,4]\nintralayer=true", "layers=[12]"] {
            let e = err(&cfg(net, "learning='ep'"));
            assert!(e.contains("one layer of at most 256"), "{net}: {e}");
        }
        let e = err(&cfg(one, "learning='ep'\nstore=4"));
        assert!(e.contains("leave store out"), "{e}");
        let e = err(&cfg(one, "learning='ep'").replace("'pattern'", "'patterns'"));
        assert!(e.contains("patterns"), "{e}");
        let ok = Config::parse(&cfg(one, "learning='ep'"), "t").unwrap();
        assert_eq!(ok.hardware.nudge, Nudge::Pattern);
        assert!(ok.canonical().contains("nudge"));
        assert!(!Config::default_config().canonical().contains("nudge"));
    }
}
