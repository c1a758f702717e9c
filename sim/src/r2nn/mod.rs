//! The resonant recurrent neural network (R²NN) of MODEL.md section 3 and
//! its metacircuit.
//!
//! - [`model`]: the grid of masses with local resonators (the [`model::Spec`]
//!   and its trainable [`model::Params`]), compiled into a general
//!   mass-spring-dashpot [`model::Net`]; the stability check; a plain dense
//!   reference of the time stepping (the oracle of the fast engine).
//! - [`engine`]: the fast time stepping, [`engine::LANES`] signals per vector
//!   lane, forward and adjoint (reverse) pass.
//! - [`train`]: softmax cross-entropy on normalized probe energies, exact
//!   gradients, Adam with bounds, parallel deterministic mini-batches.
//! - [`data`]: the three synthetic signal tasks and the CSV/WAV loaders.
//! - [`circuit`]: the mobility analogy (mass → C, spring → L, dashpot → R),
//!   state scaling, E-series snapping, Monte Carlo tolerances.
//! - [`spice`]: SPICE netlists and the ngspice runner and parser.
//! - [`file`]: the model file.
//! - [`parts`]: a board's part table (TOML): parts, transfer functions, SPI
//!   timing, slots and roles; the real-time rates of the SPI paths.
//! - [`realize`]: every element's slot, code and realized value.

pub mod circuit;
pub mod data;
pub mod engine;
pub mod file;
pub mod model;
pub mod parts;
pub mod realize;
pub mod spice;
pub mod train;
