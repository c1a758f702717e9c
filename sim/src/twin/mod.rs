//! The hardware's side of the model: fixed-point formats, the quantizer,
//! the bit-exact integer twin of the generated core, and the core's static
//! schedule and memory images. The generator (`phasegen-hdl`) builds the
//! Verilog from these, and every simulation is checked against them.
//!
//! - [`qformat`]: the runtime Q-format type shared by generator and twin;
//!   named rounding, saturation and wrapping.
//! - [`quant`]: float model -> hardware parameters ([`model::HwModel`]).
//! - [`model`]: the integer twin: one step of the hardware, bit for bit.
//! - [`stream`]: the coupling stream's groups, words and pipeline
//!   latencies.
//! - [`pairs`]: the pairs stream's counters (`hardware.coupling = "pairs"`).
//! - [`sched`]: the lane schedule of a step and its timing rules.
//! - [`image`]: the memory images of the blocks the host can write.
//! - [`learn`]: on-chip Equilibrium Propagation, the learning step of a
//!   learning design (shadow parameters, the update in fabric).
//! - [`hebb`]: on-chip Hebbian imprinting of the fully connected memory.
//! - [`store`]: the sample store of a learning design (the training set
//!   on chip): its layout and the epoch it runs.
//! - [`memory`]: the associative memory's retrievals on the twin, and its
//!   capacity table (float beside twin).
//!
//! Within `twin` the imports run qformat <- model <- quant, and stream <-
//! pairs <- sched <- image; memory uses model and quant. May use: `onn` (the topology and float
//! parameters), `config`, `data`, `board`, `rng`.

pub mod hebb;
pub mod image;
pub mod learn;
pub mod memory;
pub mod model;
pub mod pairs;
pub mod qformat;
pub mod quant;
pub mod sched;
pub mod store;
pub mod stream;
