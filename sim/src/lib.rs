//! phasegen's reference models and shared specifications, by domain. The
//! data flow is one-way, and so are the imports (checked by
//! `tests/layout.rs`; docs/architecture.md draws it):
//!
//! ```text
//! rng ─┬─ board ── config ─┬─ onn ── twin ── link
//!      ├─ data ────────────┘  └─ reduce
//!      └─ r2nn
//! ```
//!
//! - [`rng`]: the deterministic random numbers every model draws from.
//! - [`board`]: the boards the flow knows and their clocks (PLL searches).
//! - [`config`]: the TOML configuration of one design.
//! - [`data`]: the IDX (MNIST layout) loader, subsets and the seeded
//!   hold-out of a validation set.
//! - [`onn`]: the float oscillator network, Equilibrium Propagation and the
//!   associative memory.
//! - [`twin`]: the hardware's fixed-point formats, the quantizer, the
//!   bit-exact integer twin and the core's schedules and memory images.
//! - [`link`]: the UART protocol, the device's reference model and EP with
//!   the settles run by the twin or a device.
//! - [`reduce`]: phase reduction of a physical oscillator (PRC, `H`), its
//!   check against direct simulation, and EP with a phase lag.
//! - [`r2nn`]: the resonant network (R²NN) and its metacircuit, apart from
//!   the oscillator network.

pub mod board;
pub mod config;
pub mod data;
pub mod link;
pub mod onn;
pub mod r2nn;
pub mod reduce;
pub mod rng;
pub mod twin;
