//! The training sweep (`phasegen train --sweep grid.toml`): a grid over
//! config keys, one training run per point, each a job
//! ([`crate::jobs`]) with its own folder (config, model, log), merged
//! into one table.
//!
//! A grid file lists values per config key, as TOML:
//!
//! ```toml
//! [train]
//! lr = [0.005, 0.01]
//! seed = [1, 2]
//! [network]
//! layers = [[16, 10], [32, 10]]
//! ```
//!
//! (`train.lr = [0.005, 0.01]` at the top is the same). The points are
//! every combination: keys in alphabetical order of their dotted names,
//! the last varying fastest. A point's config is the base config (the
//! `--config` file or the embedded one) with its values set, checked as
//! any config is; a key the config does not have, a value of the wrong
//! type or out of range is refused before any job runs, naming the key.

use anyhow::{bail, Context, Result};
use phasegen_sim::config::Config;
use phasegen_sim::onn::train::EpochLog;
use std::fmt::Write as _;
use std::path::Path;

/// Keys and their values, in point order.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Where the grid came from (for messages).
    pub origin: String,
    /// Dotted config keys, e.g. `train.lr`, sorted.
    pub keys: Vec<String>,
    /// Each key's values, in the file's order.
    pub values: Vec<Vec<toml::Value>>,
}

impl Grid {
    pub fn load(path: &Path) -> Result<Grid> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the grid file {}", path.display()))?;
        Grid::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Grid> {
        let table: toml::Table =
            toml::from_str(text).with_context(|| format!("grid {origin} is not valid TOML"))?;
        let mut g = Grid {
            origin: origin.to_string(),
            keys: vec![],
            values: vec![],
        };
        leaves(&table, "", &mut g)?;
        if g.keys.is_empty() {
            bail!("grid {origin} lists no keys: give e.g. `train.lr = [0.005, 0.01]`");
        }
        Ok(g)
    }

    /// Number of points: the product of the value counts.
    pub fn len(&self) -> usize {
        self.values.iter().map(Vec::len).product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `i`'s values, one per key (the last key varies fastest).
    pub fn point(&self, i: usize) -> Vec<&toml::Value> {
        let mut rest = i;
        let mut v: Vec<&toml::Value> = self
            .values
            .iter()
            .rev()
            .map(|vals| {
                let x = &vals[rest % vals.len()];
                rest /= vals.len();
                x
            })
            .collect();
        v.reverse();
        v
    }

    /// `base` with point `i`'s values set, checked; an error names the
    /// key or the point and says what to change.
    pub fn config(&self, base: &Config, i: usize) -> Result<Config> {
        let vals = self.point(i);
        let pairs: Vec<(&str, &toml::Value)> = self
            .keys
            .iter()
            .map(String::as_str)
            .zip(vals.iter().copied())
            .collect();
        let desc = pairs
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        with_values(base, &pairs, &format!("point {i} of grid {}", self.origin)).with_context(
            || {
                format!(
                    "grid {}: point {i} ({desc}) is not a valid config; change these values in the grid",
                    self.origin
                )
            },
        )
    }

    /// Every point's config, after checking each key alone (so that a bad
    /// key or value is named, not only the point it makes).
    pub fn configs(&self, base: &Config) -> Result<Vec<Config>> {
        for (k, vals) in self.keys.iter().zip(&self.values) {
            for v in vals {
                with_values(base, &[(k, v)], &format!("grid {}", self.origin)).with_context(
                    || {
                        format!(
                            "grid {}: key {k} = {v}: the config refuses it; fix the key (docs/config.md lists the keys, e.g. train.lr, train.seed, network.layers) or the value",
                            self.origin
                        )
                    },
                )?;
            }
        }
        (0..self.len()).map(|i| self.config(base, i)).collect()
    }
}

/// The leaves of a grid table: every array is a key's values; a table is
/// a section (its keys are dotted below it).
fn leaves(t: &toml::Table, prefix: &str, g: &mut Grid) -> Result<()> {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(sub) => leaves(sub, &key, g)?,
            toml::Value::Array(vals) => {
                if vals.is_empty() {
                    bail!("grid {}: {key} = []: give at least one value", g.origin);
                }
                for (a, x) in vals.iter().enumerate() {
                    if vals[..a].contains(x) {
                        bail!(
                            "grid {}: {key} lists {x} twice: give each value once",
                            g.origin
                        );
                    }
                }
                g.keys.push(key);
                g.values.push(vals.clone());
            }
            other => bail!(
                "grid {}: {key} = {other}: give a list of values, e.g. {key} = [{other}]",
                g.origin
            ),
        }
    }
    Ok(())
}

/// `base` with the dotted keys set to the values, parsed and validated.
fn with_values(base: &Config, pairs: &[(&str, &toml::Value)], origin: &str) -> Result<Config> {
    let mut root = toml::Value::try_from(base).context("the base config does not serialize")?;
    for (key, v) in pairs {
        let parts: Vec<&str> = key.split('.').collect();
        let (last, sections) = parts.split_last().expect("split gives one part at least");
        let mut at = &mut root;
        for (d, s) in sections.iter().enumerate() {
            let t = at
                .as_table_mut()
                .with_context(|| format!("{} is a value, not a section", parts[..d].join(".")))?;
            at = t
                .entry(s.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        }
        let t = at
            .as_table_mut()
            .with_context(|| format!("{} is a value, not a section", sections.join(".")))?;
        t.insert(last.to_string(), (*v).clone());
    }
    let text = toml::to_string(&root).context("the config does not serialize")?;
    Config::parse(&text, origin)
}

/// A value as a table cell: strings without their quotes.
pub fn cell(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What one point's training did, from its log (JSON lines of
/// [`EpochLog`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub epochs: usize,
    /// Best test accuracy and its epoch (the first of equals).
    pub best: Option<(f64, usize)>,
    /// Test accuracy after the last epoch.
    pub last: Option<f64>,
    /// Mean wall time of an epoch (the only column that is a measurement,
    /// not a result: it differs between runs).
    pub secs_per_epoch: Option<f64>,
}

pub fn outcome(log: &str) -> Result<Outcome> {
    let mut epochs: Vec<EpochLog> = vec![];
    for (i, l) in log
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        epochs.push(
            serde_json::from_str(l)
                .with_context(|| format!("line {} is not an epoch of a training log", i + 1))?,
        );
    }
    let mut best: Option<(f64, usize)> = None;
    for e in &epochs {
        match best {
            Some((a, _)) if e.test_acc <= a => {}
            _ => best = Some((e.test_acc, e.epoch)),
        }
    }
    let n = epochs.len();
    Ok(Outcome {
        epochs: n,
        best,
        last: epochs.last().map(|e| e.test_acc),
        secs_per_epoch: (n > 0).then(|| epochs.iter().map(|e| e.seconds).sum::<f64>() / n as f64),
    })
}

/// The merged table: one row per point, in point order.
pub fn table(g: &Grid, outcomes: &[Outcome], folders: &[String]) -> String {
    let pct = |x: f64| format!("{:.2}%", 100.0 * x);
    let mut o = String::from("| point |");
    for k in &g.keys {
        let _ = write!(o, " {k} |");
    }
    o.push_str(" epochs | best test (epoch) | final test | s/epoch | folder |\n|---|");
    o.push_str(&"---|".repeat(g.keys.len() + 5));
    o.push('\n');
    for (i, (r, f)) in outcomes.iter().zip(folders).enumerate() {
        let _ = write!(o, "| {i} |");
        for v in g.point(i) {
            let _ = write!(o, " {} |", cell(v));
        }
        let _ = writeln!(
            o,
            " {} | {} | {} | {} | {f} |",
            r.epochs,
            r.best
                .map(|(a, e)| format!("{} ({e})", pct(a)))
                .unwrap_or_else(|| "-".into()),
            r.last.map(pct).unwrap_or_else(|| "-".into()),
            r.secs_per_epoch
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "-".into()),
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(text: &str) -> Result<Grid> {
        Grid::parse(text, "g.toml")
    }

    #[test]
    fn points_are_every_combination_the_last_key_fastest() {
        let g = grid("[train]\nseed = [1, 2, 3]\nlr = [0.1, 0.2]\n").unwrap();
        assert_eq!(g.keys, ["train.lr", "train.seed"]);
        assert_eq!(g.len(), 6);
        let p: Vec<String> = (0..6)
            .map(|i| {
                g.point(i)
                    .iter()
                    .map(|v| cell(v))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(p, ["0.1 1", "0.1 2", "0.1 3", "0.2 1", "0.2 2", "0.2 3"]);
        // dotted keys at the top are the same grid
        let d = grid("\"train.lr\" = 1\n").unwrap_err();
        assert!(
            format!("{d:#}").contains("train.lr = 1: give a list"),
            "{d:#}"
        );
        assert_eq!(
            grid("train.seed = [1, 2, 3]\ntrain.lr = [0.1, 0.2]\n").unwrap(),
            g
        );
    }

    #[test]
    fn a_point_is_the_base_config_with_its_values() {
        let base = Config::default_config();
        let g = grid("[train]\nlr = [0.01]\nepochs = [2, 3]\n[network]\nlayers = [[16, 10]]\n")
            .unwrap();
        let c = g.configs(&base).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].train.lr, 0.01);
        assert_eq!(c[1].train.epochs, 3);
        assert_eq!(c[0].network.layers, [16, 10]);
        assert_eq!(c[0].train.batch, base.train.batch);
        assert_eq!(c[0].hardware, base.hardware);
    }

    #[test]
    fn bad_grids_are_refused_by_key() {
        let base = Config::default_config();
        let err = |text: &str| match grid(text).and_then(|g| g.configs(&base)) {
            Ok(_) => panic!("{text} accepted"),
            Err(e) => format!("{e:#}"),
        };
        let e = err("[train]\nlrr = [0.01]\n");
        assert!(
            e.contains("key train.lrr = 0.01") && e.contains("unknown field `lrr`"),
            "{e}"
        );
        let e = err("[trian]\nlr = [0.01]\n");
        assert!(
            e.contains("key trian.lr") && e.contains("unknown field `trian`"),
            "{e}"
        );
        let e = err("[train]\nepochs = [\"many\"]\n");
        assert!(e.contains("key train.epochs = \"many\""), "{e}");
        let e = err("[train]\nlr = []\n");
        assert!(e.contains("train.lr = []: give at least one value"), "{e}");
        let e = err("[train]\nseed = [1, 1]\n");
        assert!(e.contains("train.seed lists 1 twice"), "{e}");
        let e = err("name = [\"a\"]\n[train]\nlr = 0.1\n");
        assert!(
            e.contains("train.lr = 0.1: give a list of values, e.g. train.lr = [0.1]"),
            "{e}"
        );
        let e = err("[train]\nlr = [-1.0]\n");
        assert!(e.contains("key train.lr = -1.0"), "{e}");
        let e = err("");
        assert!(e.contains("lists no keys"), "{e}");
        let e = err("[train\n");
        assert!(e.contains("grid g.toml is not valid TOML"), "{e}");
    }

    #[test]
    fn the_outcome_is_read_from_the_log() {
        let line = |e: usize, acc: f64, s: f64| {
            format!(
                "{{\"epoch\":{e},\"loss\":1.0,\"train_acc\":0.5,\"test_acc\":{acc},\"test_loss\":1.0,\"lr\":0.01,\"train_seconds\":{s},\"seconds\":{s},\"steps_per_sample\":70.0}}\n"
            )
        };
        let log =
            line(1, 0.5, 1.0) + &line(2, 0.75, 2.0) + &line(3, 0.75, 3.0) + &line(4, 0.6, 2.0);
        let o = outcome(&log).unwrap();
        assert_eq!(o.best, Some((0.75, 2)));
        assert_eq!(o.last, Some(0.6));
        assert_eq!(o.secs_per_epoch, Some(2.0));
        let g = grid("[train]\nseed = [7]\n").unwrap();
        let t = table(&g, &[o], &["p".into()]);
        assert_eq!(
            t,
            "| point | train.seed | epochs | best test (epoch) | final test | s/epoch | folder |\n|---|---|---|---|---|---|---|\n| 0 | 7 | 4 | 75.00% (2) | 60.00% | 2.00 | p |\n"
        );
        assert!(outcome("{").is_err());
        assert_eq!(outcome("").unwrap().best, None);
    }
}
