//! The host's link to a device: the UART protocol defined once for both
//! sides, the reference model of the device's protocol engine, and EP whose
//! settles run on the twin or on a device.
//!
//! - [`protocol`]: frames, commands, CRC, status counters; used by the
//!   generator (`phasegen-hdl`'s `top.rs`) and the host (`phasegen`'s
//!   `device.rs`).
//! - [`devmodel`]: what `pg_top` answers to any byte stream (the oracle of
//!   the UART tests and the fuzzer).
//! - [`ctlmodel`]: what the metacircuit controller (`pg_ctl_top`) answers
//!   to any byte stream (the oracle of `tests/fuzz_ctl.rs`).
//! - [`hil`]: Equilibrium Propagation with the free and nudged settles run
//!   by a [`hil::Backend`]: the twin, or a device over the protocol.
//! - [`onchip`]: the host's loop of on-chip learning (the device learns
//!   each sample; the host streams them and logs).
//!
//! May use: `twin`, `onn`, `config`, `data`, `board`, `rng`.

pub mod ctlmodel;
pub mod devmodel;
pub mod hil;
pub mod onchip;
pub mod protocol;
