//! From a trained circuit to part codes: every element of a [`Circuit`]
//! gets the slot its role names in a [`PartTable`], the code that slot
//! needs, and the value the code realizes (docs/metacircuit-board.md).
//!
//! **Roles.** A coordinate hung on exactly one spring to another coordinate
//! is a resonator: its mass is a *resonator capacitor*, that spring a
//! *resonator inductor*. Other masses are *main capacitors*, other springs
//! *coupling inductors*; a dashpot with a trained parameter is a *trained
//! resistor*, one without (the ground damping) a *fixed resistor*.
//!
//! **Resonance tuning.** With `roles.tune_resonance`, a resonator's inductor
//! is first taken from its series (`L'`), then its capacitor is aimed at
//! `C' = C·L/L'`, which keeps `1/√(L'C') = 1/√(LC)`, the trained resonance
//! (the resonator's mass and spring both change by `L/L'`, their ratio
//! does not); the bank then gets as close as its steps allow.
//!
//! **Scale.** The main capacitors are fixed on the board, so the impedance
//! scale is chosen to make a main mass exactly that value:
//! `Z0 = τ m_main / C_main` (unless given).

use super::circuit::{eng, Circuit, Kind, Origin, Scale};
use super::model::Net;
use super::parts::{series_nearest, BankFn, PartTable, RSetting, RheostatFn, Slot};
use anyhow::{bail, Result};
use serde::Serialize;

/// What an element is in the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    MainCapacitor,
    ResonatorCapacitor,
    ResonatorInductor,
    CouplingInductor,
    TrainedResistor,
    FixedResistor,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::MainCapacitor => "main capacitor",
            Role::ResonatorCapacitor => "resonator capacitor",
            Role::ResonatorInductor => "resonator inductor",
            Role::CouplingInductor => "coupling inductor",
            Role::TrainedResistor => "trained resistor",
            Role::FixedResistor => "fixed resistor",
        }
    }

    pub fn slot(self, t: &PartTable) -> &str {
        let r = &t.roles;
        match self {
            Role::MainCapacitor => &r.main_capacitor,
            Role::ResonatorCapacitor => &r.resonator_capacitor,
            Role::ResonatorInductor => &r.resonator_inductor,
            Role::CouplingInductor => &r.coupling_inductor,
            Role::TrainedResistor => &r.trained_resistor,
            Role::FixedResistor => &r.fixed_resistor,
        }
    }

    pub const ALL: [Role; 6] = [
        Role::MainCapacitor,
        Role::ResonatorCapacitor,
        Role::ResonatorInductor,
        Role::CouplingInductor,
        Role::TrainedResistor,
        Role::FixedResistor,
    ];
}

/// The resonator coordinate a spring hangs, if it is a resonator spring.
fn resonator_of(net: &Net, spring: usize, deg: &[usize]) -> Option<usize> {
    let s = &net.springs[spring];
    let b = s.b?;
    if deg[b] == 1 {
        Some(b)
    } else if deg[s.a] == 1 {
        Some(s.a)
    } else {
        None
    }
}

fn degrees(net: &Net) -> Vec<usize> {
    let mut deg = vec![0usize; net.n()];
    for s in &net.springs {
        deg[s.a] += 1;
        if let Some(b) = s.b {
            deg[b] += 1;
        }
    }
    deg
}

/// The role of every part of `c`, in order.
pub fn roles(c: &Circuit) -> Vec<Role> {
    let net = &c.net;
    let deg = degrees(net);
    let resonators: Vec<bool> = (0..net.n())
        .map(|i| {
            deg[i] == 1
                && net
                    .springs
                    .iter()
                    .enumerate()
                    .any(|(k, _)| resonator_of(net, k, &deg) == Some(i))
        })
        .collect();
    c.parts
        .iter()
        .map(|p| match p.origin {
            Origin::Mass(i) if resonators[i] => Role::ResonatorCapacitor,
            Origin::Mass(_) => Role::MainCapacitor,
            Origin::Spring(k) if resonator_of(net, k, &deg).is_some() => Role::ResonatorInductor,
            Origin::Spring(_) => Role::CouplingInductor,
            Origin::Dashpot(k) if net.dashpots[k].param.is_some() => Role::TrainedResistor,
            Origin::Dashpot(_) => Role::FixedResistor,
        })
        .collect()
}

/// The board's scale: `τ` from `sample_rate` (or the default, common part
/// values), `Z0` from `z0` or else such that a main mass is exactly the
/// fixed main capacitor.
pub fn board_scale(
    net: &Net,
    t: &PartTable,
    sample_rate: Option<f64>,
    z0: Option<f64>,
) -> Result<Scale> {
    let mut s = Scale::choose(net, sample_rate, z0)?;
    if z0.is_none() {
        if let Ok(Slot::Fixed { value, .. }) = t.slot(&t.roles.main_capacitor) {
            let c = Circuit::from_net(net, s);
            let roles = roles(&c);
            if let Some(m) = c
                .parts
                .iter()
                .zip(&roles)
                .find(|(_, r)| **r == Role::MainCapacitor)
                .map(|(p, _)| p.value)
            {
                s.z0 *= m / value;
            }
        }
    }
    Ok(s)
}

/// One element on the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Element {
    /// The SPICE name (`C…`, `L…`, `R…`).
    pub name: String,
    pub role: Role,
    pub slot: String,
    /// The trained value at the board's scale (F, H, Ω).
    pub trained: f64,
    /// The value aimed at (the trained one, or the tuned resonator
    /// capacitor).
    pub target: f64,
    /// The value the board realizes (`None` for an open resistor).
    pub value: Option<f64>,
    /// The bound on the realization error: on |value − target| for C and
    /// L, on the conductance |1/value − 1/target| for R (siemens).
    pub bound: f64,
    /// The code (rheostat position, switch word), for programmable slots.
    pub code: Option<u64>,
    /// The element is opened by its switch.
    pub open: bool,
}

impl Element {
    /// The realization error in the quantity `bound` bounds.
    pub fn error(&self) -> f64 {
        match self.value {
            _ if self.name.starts_with('R') => {
                let g = self.value.map_or(0.0, |v| 1.0 / v);
                (g - 1.0 / self.target).abs()
            }
            Some(v) => (v - self.target).abs(),
            None => f64::INFINITY,
        }
    }
}

/// One chip's word on a daisy-chained bus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Word {
    /// The frame this chip gets (command and code).
    pub word: u64,
    /// The elements the word sets.
    pub elements: Vec<String>,
}

/// A programming bus: its chips from the controller's data line on (chip 0
/// gets the last word shifted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusWords {
    pub bus: String,
    pub part: String,
    pub mode: u8,
    pub clock_hz: f64,
    pub frame_bits: u32,
    pub init: Vec<u64>,
    pub read: Option<u64>,
    pub chips: Vec<Word>,
}

/// The board set up for a model.
#[derive(Debug, Clone)]
pub struct Realized {
    pub elements: Vec<Element>,
    pub buses: Vec<BusWords>,
    /// The circuit the board makes (open resistors left out).
    pub circuit: Circuit,
}

/// Every element's code and realized value; refuses a value outside its
/// slot's range, naming the element and the range.
pub fn realize(c: &Circuit, t: &PartTable) -> Result<Realized> {
    let roles = roles(c);
    let net = &c.net;
    let deg = degrees(net);
    // realized inductance of every resonator's spring, by resonator coordinate
    let mut tuned_l: Vec<Option<(f64, f64)>> = vec![None; net.n()];
    let mut elements = Vec::with_capacity(c.parts.len());
    let refuse = |name: &str, role: Role, slot: &str, v: f64, unit: &str, range: String| {
        anyhow::anyhow!(
            "{name} ({}) needs {}, outside what slot {slot} realizes: {range}",
            role.name(),
            eng(v, unit)
        )
    };
    // inductors first (the tuned capacitors depend on them)
    let mut order: Vec<usize> = (0..c.parts.len()).collect();
    order.sort_by_key(|&i| !matches!(c.parts[i].kind, Kind::L));
    let mut out: Vec<Option<Element>> = vec![None; c.parts.len()];
    for &i in &order {
        let p = &c.parts[i];
        let role = roles[i];
        let slot_name = role.slot(t).to_string();
        let slot = t.slot(&slot_name)?;
        let unit = p.kind.unit();
        let mut target = p.value;
        if role == Role::ResonatorCapacitor && t.roles.tune_resonance {
            let Origin::Mass(m) = p.origin else {
                unreachable!("a capacitor stands for a mass")
            };
            if let Some((l_trained, l_real)) = tuned_l[m] {
                target = p.value * l_trained / l_real;
            }
        }
        let range_err = |what: String| refuse(&p.name, role, &slot_name, target, unit, what);
        let (value, bound, code, open) = match slot {
            Slot::Fixed {
                value, tolerance, ..
            } => {
                if (target / value - 1.0).abs() > *tolerance {
                    return Err(range_err(format!(
                        "a fixed {} ±{}%",
                        eng(*value, unit),
                        100.0 * tolerance
                    )));
                }
                (Some(*value), value * tolerance, None, false)
            }
            Slot::Series {
                series, min, max, ..
            } => match series_nearest(slot, target)? {
                Some((v, b)) => (Some(v), b, None, false),
                None => {
                    return Err(range_err(format!(
                        "{} values from {} to {}",
                        series,
                        eng(*min, unit),
                        eng(*max, unit)
                    )))
                }
            },
            Slot::Rheostat { .. } => {
                let f = RheostatFn::of(t, slot)?;
                match f.nearest(target) {
                    Some((RSetting::Code(d), b)) => {
                        (Some(f.ohms(RSetting::Code(d))), b, Some(d), false)
                    }
                    Some((RSetting::Open, b)) => (None, b, None, true),
                    None => return Err(range_err(f.describe())),
                }
            }
            Slot::Bank { .. } => {
                let f = BankFn::of(slot)?;
                match f.nearest(target) {
                    Some((code, b)) => (Some(f.value(code)), b, Some(code), false),
                    None => return Err(range_err(f.describe())),
                }
            }
        };
        if role == Role::ResonatorInductor {
            let Origin::Spring(k) = p.origin else {
                unreachable!("an inductor stands for a spring")
            };
            if let (Some(r), Some(v)) = (resonator_of(net, k, &deg), value) {
                tuned_l[r] = Some((p.value, v));
            }
        }
        out[i] = Some(Element {
            name: p.name.clone(),
            role,
            slot: slot_name,
            trained: p.value,
            target,
            value,
            bound,
            code,
            open,
        });
    }
    for e in out.into_iter() {
        elements.push(e.expect("every part realized"));
    }
    let mut circuit = c.clone();
    let mut parts = vec![];
    for (p, e) in c.parts.iter().zip(&elements) {
        if let Some(v) = e.value {
            let mut q = p.clone();
            q.value = v;
            parts.push(q);
        }
    }
    // A trained dashpot of 0 has no resistor in the circuit, but its slot is
    // on the board and must be set: open (or as near to it as the slot goes).
    let node = |i: Option<usize>| i.map_or("0".to_string(), |i| net.labels[i].clone());
    for (k, d) in net.dashpots.iter().enumerate() {
        if d.value > 0.0 || d.param.is_none() {
            continue;
        }
        let role = Role::TrainedResistor;
        let slot_name = role.slot(t).to_string();
        let slot = t.slot(&slot_name)?;
        let name = format!("R{k}_{}", net.labels[d.a]);
        let (value, bound, code, open) = match slot {
            Slot::Rheostat { .. } => {
                let f = RheostatFn::of(t, slot)?;
                match f.nearest(f64::INFINITY) {
                    Some((RSetting::Code(d), b)) => (Some(f.ohms(RSetting::Code(d))), b, Some(d), false),
                    Some((RSetting::Open, b)) => (None, b, None, true),
                    None => {
                        return Err(refuse(
                            &name,
                            role,
                            &slot_name,
                            f64::INFINITY,
                            "Ω",
                            f.describe(),
                        ))
                    }
                }
            }
            _ => bail!(
                "{name} ({}) is a dashpot of 0 (an open circuit); slot {slot_name} cannot open: give trained_resistor a rheostat slot with an open_bus",
                role.name()
            ),
        };
        if let Some(v) = value {
            parts.push(super::circuit::Component {
                name: name.clone(),
                kind: Kind::R,
                a: node(Some(d.a)),
                b: node(d.b),
                value: v,
                origin: Origin::Dashpot(k),
            });
        }
        elements.push(Element {
            name,
            role,
            slot: slot_name,
            trained: f64::INFINITY,
            target: f64::INFINITY,
            value,
            bound,
            code,
            open,
        });
    }
    circuit.parts = parts;
    let buses = bus_words(t, &elements)?;
    Ok(Realized {
        elements,
        buses,
        circuit,
    })
}

/// The words of every programming bus, in circuit order: a rheostat bus has
/// one chip per element; a switch bus one chip per bank element, then the
/// open switches of every rheostat slot that names it, packed eight (the
/// part's channels) per chip.
fn bus_words(t: &PartTable, elements: &[Element]) -> Result<Vec<BusWords>> {
    let mut out = vec![];
    for (name, bus) in &t.buses {
        let part = t.part(&bus.part)?;
        let spi = part.spi();
        let mut chips = vec![];
        let mut opens: Vec<(&Element, bool)> = vec![];
        for e in elements {
            match t.slot(&e.slot)? {
                Slot::Rheostat {
                    bus: b, open_bus, ..
                } => {
                    if b == name {
                        // an open element keeps its last code (any)
                        let code = e.code.unwrap_or(0);
                        chips.push(Word {
                            word: spi.write | code << spi.code_shift,
                            elements: vec![e.name.clone()],
                        });
                    }
                    if open_bus.as_deref() == Some(name.as_str()) {
                        // the switch is closed (1) unless the element is open
                        opens.push((e, !e.open));
                    }
                }
                Slot::Bank { bus: b, .. } if b == name => chips.push(Word {
                    word: spi.write | e.code.unwrap_or(0) << spi.code_shift,
                    elements: vec![e.name.clone()],
                }),
                _ => {}
            }
        }
        if let super::parts::Part::Switch { channels, .. } = part {
            for group in opens.chunks(*channels as usize) {
                let mut w = 0u64;
                for (k, (_, closed)) in group.iter().enumerate() {
                    w |= (*closed as u64) << k;
                }
                chips.push(Word {
                    word: spi.write | w << spi.code_shift,
                    elements: group.iter().map(|(e, _)| e.name.clone()).collect(),
                });
            }
        }
        if chips.is_empty() {
            continue;
        }
        if chips.len() > 1 && !spi.daisy_chain {
            bail!(
                "bus {name} would chain {} {} chips, but parts.{}.spi.daisy_chain is false",
                chips.len(),
                part.number(),
                bus.part
            );
        }
        out.push(BusWords {
            bus: name.clone(),
            part: part.number().to_string(),
            mode: spi.mode,
            clock_hz: bus.clock_hz,
            frame_bits: spi.frame_bits,
            init: spi.init.clone(),
            read: spi.read,
            chips,
        });
    }
    Ok(out)
}

/// Relative resonance error `√(L C / (L' C')) − 1` of every resonator
/// (trained values against realized ones).
pub fn resonance_errors(r: &Realized) -> Vec<f64> {
    let c = &r.circuit;
    let net = &c.net;
    let deg = degrees(net);
    let find = |o: Origin| {
        r.elements
            .iter()
            .zip(roles_of(r))
            .find(|(_, (p, _))| *p == o)
    };
    let mut out = vec![];
    for k in 0..net.springs.len() {
        let Some(res) = resonator_of(net, k, &deg) else {
            continue;
        };
        let (Some((l, _)), Some((cap, _))) = (find(Origin::Spring(k)), find(Origin::Mass(res)))
        else {
            continue;
        };
        if let (Some(lv), Some(cv)) = (l.value, cap.value) {
            out.push((l.trained * cap.trained / (lv * cv)).sqrt() - 1.0);
        }
    }
    out
}

/// The origin of every element (the realized circuit leaves open resistors
/// out, so they are matched by name).
fn roles_of(r: &Realized) -> Vec<(Origin, Role)> {
    let by_name: std::collections::HashMap<&str, Origin> = r
        .circuit
        .parts
        .iter()
        .map(|p| (p.name.as_str(), p.origin))
        .collect();
    r.elements
        .iter()
        .map(|e| {
            (
                by_name
                    .get(e.name.as_str())
                    .copied()
                    .unwrap_or(Origin::Dashpot(usize::MAX)),
                e.role,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::r2nn::model::Spec;

    const REFERENCE: &str = include_str!("../../../configs/parts/reference.toml");

    fn tiny() -> (Circuit, PartTable) {
        let t = PartTable::parse(REFERENCE, "reference.toml").unwrap();
        let spec = Spec::preset_grid(3, 3, 3, [0.04, 0.6], 2).unwrap();
        let mut p = spec.init(3);
        for (i, c) in p.cc.iter_mut().enumerate() {
            *c = [0.0, 1e-5, 0.02, 0.05][i % 4];
        }
        let net = spec.net(&p).unwrap();
        let s = board_scale(&net, &t, None, None).unwrap();
        (Circuit::from_net(&net, s), t)
    }

    #[test]
    fn roles_follow_the_structure() {
        let (c, _) = tiny();
        let r = roles(&c);
        let count = |x: Role| r.iter().filter(|&&y| y == x).count();
        // a 3×3 grid with its 4 corners fixed: 5 free nodes, each with a
        // resonator; 12 edges, none between two corners
        assert_eq!(count(Role::MainCapacitor), 5);
        assert_eq!(count(Role::ResonatorCapacitor), 5);
        assert_eq!(count(Role::ResonatorInductor), 5);
        assert_eq!(count(Role::CouplingInductor), 12);
        assert_eq!(count(Role::FixedResistor), 5);
        // the trained dashpots of value 0 are left out of the circuit
        assert_eq!(count(Role::TrainedResistor), 9);
        // but not out of the board: they are opened
        let t = PartTable::parse(REFERENCE, "reference.toml").unwrap();
        let r = realize(&c, &t).unwrap();
        let trained: Vec<_> = r
            .elements
            .iter()
            .filter(|e| e.role == Role::TrainedResistor)
            .collect();
        assert_eq!(trained.len(), 12);
        assert_eq!(
            trained.iter().filter(|e| e.trained.is_infinite()).count(),
            3
        );
        assert!(trained
            .iter()
            .filter(|e| e.trained.is_infinite())
            .all(|e| e.open));
    }

    #[test]
    fn every_element_is_within_its_bound_and_resonances_are_kept() {
        let (c, t) = tiny();
        let r = realize(&c, &t).unwrap();
        for e in &r.elements {
            assert!(e.error() <= e.bound * (1.0 + 1e-9), "{e:?}");
        }
        // the main capacitors are exact at the board's scale
        for e in r.elements.iter().filter(|e| e.role == Role::MainCapacitor) {
            assert!((e.value.unwrap() / e.trained - 1.0).abs() < 1e-12, "{e:?}");
        }
        // a tiny dashpot is opened, a large one set by code
        assert!(r.elements.iter().any(|e| e.open));
        let errs = resonance_errors(&r);
        assert_eq!(errs.len(), 5);
        for e in errs {
            // the bank's steps (≤ 0.5 nF of 100 nF) move a resonance by ≤ 0.25%
            assert!(e.abs() < 2.5e-3, "{e}");
        }
        // words: 5 banks + 12 open switches on 8 channels → 2 chips
        let bank = r.buses.iter().find(|b| b.bus == "bank").unwrap();
        assert_eq!(bank.chips.len(), 5 + 2);
        let rheo = r.buses.iter().find(|b| b.bus == "rheo").unwrap();
        assert_eq!(rheo.chips.len(), 12);
        for w in &rheo.chips {
            assert_eq!(w.word >> 10, 0x0400 >> 10, "command 1 = write RDAC");
        }
    }

    #[test]
    fn a_value_outside_a_slot_is_refused_by_name() {
        let (mut c, t) = tiny();
        // a coupling inductor of 5 H: beyond the E12 slot's 1 H
        let i = c
            .parts
            .iter()
            .position(|p| p.kind == Kind::L && matches!(p.origin, Origin::Spring(0)))
            .unwrap();
        c.parts[i].value = 5.0;
        let name = c.parts[i].name.clone();
        let e = realize(&c, &t).unwrap_err().to_string();
        assert!(
            e.contains(&format!("{name} (coupling inductor) needs 5.000 H"))
                && e.contains("slot l_fixed realizes: E12 values from 1.000 µH to 1.000 H"),
            "{e}"
        );
    }
}
