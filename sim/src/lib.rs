//! phasegen reference models and shared specifications.
//!
//! - [`config`]: the TOML configuration.
//! - [`net`]: topology, float parameters and the model file.
//! - [`data`]: the IDX (MNIST layout) loader.
//! - [`float`]: the scalar float oscillator network (the reference).
//! - [`batch`]: the fast engine: 16 samples per vector lane.
//! - [`train`]: Equilibrium Propagation training and evaluation.
//! - [`memory`]: the fully connected associative memory.
//! - [`hil`]: EP with the settles run by the twin (or a device).
//! - [`qformat`]: the runtime Q-format type shared by generator and twin.
//! - [`quant`]: float model -> hardware parameters.
//! - [`twin`]: the integer, bit-exact model of the generated hardware.
//! - [`protocol`]: the UART protocol, used by the generator and the host.
//! - [`devmodel`]: the reference model of the device's protocol engine.
//! - [`sched`]: the core's static lane schedule and its memory images.
//! - [`pairs`]: the pairs stream (each coupled pair's weight once).
//! - [`pll`]: the core clock from a board's oscillator (icepll/ecppll searches).

pub mod batch;
pub mod config;
pub mod data;
pub mod devmodel;
pub mod float;
pub mod hil;
pub mod memory;
pub mod net;
pub mod pairs;
pub mod pll;
pub mod protocol;
pub mod qformat;
pub mod quant;
pub mod r2nn;
pub mod rng;
pub mod sched;
pub mod train;
pub mod twin;
