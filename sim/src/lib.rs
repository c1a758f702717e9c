//! phasegen reference models and shared specifications.
//!
//! - [`config`]: the TOML configuration.
//! - [`net`]: topology, float parameters and the model file.
//! - [`data`]: the IDX (MNIST layout) loader.
//! - [`float`]: the float oscillator network and Equilibrium Propagation.
//! - [`qformat`]: the runtime Q-format type shared by generator and twin.
//! - [`quant`]: float model -> hardware parameters.
//! - [`twin`]: the integer, bit-exact model of the generated hardware.
//! - [`protocol`]: the UART protocol, used by the generator and the host.
//! - [`pll`]: the core clock from a board's oscillator (icepll/ecppll searches).

pub mod config;
pub mod data;
pub mod float;
pub mod net;
pub mod pll;
pub mod protocol;
pub mod qformat;
pub mod quant;
pub mod rng;
pub mod train;
pub mod twin;
