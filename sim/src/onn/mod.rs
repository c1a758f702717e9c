//! The oscillator neural network in floating point: the model the user
//! trains and the reference the twin is measured against.
//!
//! - [`net`]: the topology, the float parameters (and their gradient's
//!   shape) and the model file.
//! - [`coupling`]: the coupling function `H(ψ)`: `sin ψ`, or with a
//!   Sakaguchi phase lag and extra odd harmonics.
//! - [`float`]: the scalar float network, one sample at a time (the oracle
//!   of the fast engine).
//! - [`batch`]: the fast engine, 16 samples per vector lane.
//! - [`train`]: Equilibrium Propagation training and evaluation.
//! - [`memory`]: the fully connected associative memory (Hebbian,
//!   pseudo-inverse and EP rules).
//! - [`ap`]: amplitude-phase oscillators (MODEL.md section 4): their
//!   parameters, scalar model, lane engine, trainer backend and model file.
//! - [`kind`]: a network of either kind, for the commands that take both.
//!
//! May use: `config`, `data`, `board`, `rng`. Nothing here knows about the
//! hardware (`twin`) or the device (`link`).

pub mod ap;
pub mod batch;
pub mod coupling;
pub mod float;
pub mod kind;
pub mod memory;
pub mod net;
pub mod train;
