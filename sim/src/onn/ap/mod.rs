//! Amplitude-phase oscillators (MODEL.md section 4): each oscillator is a
//! complex amplitude `z_i = r_i e^{iθ_i} = x_i + i y_i` in the frame of the
//! common frequency, in the Stuart-Landau normal form with real symmetric
//! coupling, trained with Equilibrium Propagation by the phase network's
//! trainer ([`crate::onn::train::train_on`]).
//!
//! Energy (the input field `b = h + U x_in` is real):
//!
//! ```text
//! E(z) = Σ_i (−μ_i |z_i|² + ½ |z_i|⁴) − Σ_{i<j} W_ij (z̄_i z_j + z_i z̄_j) − Σ_i (b̄_i z_i + b_i z̄_i)
//!      = Σ_i (−μ_i r_i² + ½ r_i⁴) − 2 Σ_{i<j} W_ij (x_i x_j + y_i y_j) − 2 Σ_i b_i x_i
//! ```
//!
//! Dynamics: `dz_i/dt = −∂E/∂z̄_i + i δω_i z_i + σ ξ_i`, with
//! `∂/∂z̄ = ½(∂/∂x + i ∂/∂y)`:
//!
//! ```text
//! dx_i/dt = (μ_i − r_i²) x_i + Σ_j W_ij x_j + b_i − δω_i y_i
//! dy_i/dt = (μ_i − r_i²) y_i + Σ_j W_ij y_j       + δω_i x_i
//! ```
//!
//! integrated by (Jacobi) Euler steps of size `eps` in which the cubic
//! saturation is taken at the new state:
//!
//! ```text
//! z_i' (1 + eps |z_i|²) = z_i + eps (μ_i z_i + Σ_j W_ij z_j + b_i + i δω_i z_i)
//! ```
//!
//! Explicit Euler is unstable once `eps (3 r² − μ) > 2` (at `eps = 0.25`,
//! amplitudes above 1.7, which training reaches: the default digits config
//! diverged in its second epoch); this step damps any amplitude, costs one
//! division, and has the fixed points of the flow, which are all EP uses.
//! The noise is complex white noise, `σ √eps · N(0, 1)` on each of `x` and
//! `y` after each step. Without dispersion and noise the flow descends `E`
//! (it is a gradient flow of `E/2` in `(x, y)`); the rotation `i δω z` is
//! not a gradient and breaks that, so EP is exact only at `δω = 0`.
//!
//! Readout: `Re z_o = x_o` (the signed amplitude; `Re z_o / |z_o|` is
//! singular where an amplitude vanishes); the prediction is the output of
//! largest `x_o`. Cost `C = ½ Σ_o (x_o − t_o)²`, `t_o = +1` for the label,
//! −1 otherwise. The nudged energy `F = E + β C` adds
//! `−∂(βC)/∂z̄_o = −(β/2)(x_o − t_o)` to `dx_o/dt`.
//!
//! EP's gradient estimate uses `∂E/∂W_ij = −2(x_i x_j + y_i y_j)`,
//! `∂E/∂h_i = −2 x_i`, `∂E/∂U_ik = −2 x_i x_in,k`. The gain `μ` is a fixed
//! device constant (`network.mu`), not trained.
//!
//! - [`params`]: the parameters, their initialization and the trainer's view.
//! - [`float`]: the scalar model, one sample at a time (the engine's oracle).
//! - [`engine`]: the fast engine, [`crate::onn::batch::LANES`] samples per
//!   vector lane, with the phase engine's coupling blocks.
//! - [`train`]: the float backend of the trainer, training and evaluation.
//! - [`file`]: the model file, which the phase-only commands refuse.

pub mod engine;
pub mod file;
pub mod float;
pub mod params;
pub mod train;
