//! Phase reduction of a physical oscillator (MODEL.md section 4,
//! docs/reduction.md), and where Equilibrium Propagation breaks when the
//! reduced coupling is not odd.
//!
//! - [`check`]: one file's reduction and its check, as printed.
//! - [`config`]: the oscillator TOML (`configs/reduce/*.toml`).
//! - [`oscillator`]: van der Pol and the cross-coupled LC, their vector
//!   fields, Jacobians and coupling observables.
//! - [`ode`]: the RK4 step and the zero-crossing interpolant.
//! - [`cycle`]: the limit cycle and its period.
//! - [`prc`]: the phase response curve by the adjoint method.
//! - [`hfun`]: the coupling function `H(ψ)` and its Fourier coefficients.
//! - [`pair`]: two coupled copies simulated directly, against `H`'s
//!   locking offset, locking range and locked frequency.
//! - [`ep`]: the phase network with a Sakaguchi lag: EP's update against
//!   the true gradient, and digits accuracy, against `α`.
//!
//! May use: `onn`, `config`, `data`, `rng` (it trains phase networks);
//! nothing imports it but the command line.

pub mod check;
pub mod config;
pub mod cycle;
pub mod ep;
pub mod hfun;
pub mod ode;
pub mod oscillator;
pub mod pair;
pub mod prc;
