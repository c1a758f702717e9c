//! The oscillator neural network in floating point: the model the user
//! trains and the reference the twin is measured against.
//!
//! - [`net`]: the topology, the float parameters (and their gradient's
//!   shape) and the model file.
//! - [`float`]: the scalar float network, one sample at a time (the oracle
//!   of the fast engine).
//! - [`batch`]: the fast engine, 16 samples per vector lane.
//! - [`train`]: Equilibrium Propagation training and evaluation.
//! - [`memory`]: the fully connected associative memory (Hebbian,
//!   pseudo-inverse and EP rules).
//!
//! May use: `config`, `data`, `board`, `rng`. Nothing here knows about the
//! hardware (`twin`) or the device (`link`).

pub mod batch;
pub mod float;
pub mod memory;
pub mod net;
pub mod train;
