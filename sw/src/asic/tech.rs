//! A standard-cell technology as qflow installs it: a folder
//! `/usr/share/qflow/tech/<name>/` (or `$QFLOW_TECH_DIR/<name>/`) with the
//! setup script `<name>.sh` that names the liberty, LEF and SPICE files,
//! and the cells' Verilog models `<name>_stdcells.v` beside them.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The technologies `scripts/setup.sh` installs (Debian's
/// qflow-tech-osu018 and qflow-tech-osu035).
pub const TECHS: &[&str] = &["osu018", "osu035"];

/// One technology's files.
#[derive(Debug, Clone, PartialEq)]
pub struct Tech {
    /// `osu018`, `osu035`: what `qflow -T` takes.
    pub name: String,
    pub dir: PathBuf,
    /// Cell timing, power and function: what synthesis maps to and STA
    /// times with.
    pub liberty: PathBuf,
    /// Cell outlines and pins: what placement and routing use.
    pub lef: PathBuf,
    /// The cells' Verilog simulation models (UDP tables, specify blocks).
    pub verilog: PathBuf,
}

/// The folder qflow takes technology `name` from: `$QFLOW_TECH_DIR/<name>`
/// when that variable is set (qflow's own override), else
/// `/usr/share/qflow/tech/<name>`.
pub fn tech_dir(name: &str) -> PathBuf {
    match std::env::var_os("QFLOW_TECH_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join(name),
        _ => PathBuf::from("/usr/share/qflow/tech").join(name),
    }
}

/// The value of `set VAR=VALUE` in a qflow tech setup script (tcsh), up to
/// a `;#` comment.
pub fn setup_var(script: &str, var: &str) -> Option<String> {
    script.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("set ")?.trim_start();
        let value = rest.strip_prefix(var)?.trim_start().strip_prefix('=')?;
        let value = value.split(";#").next().unwrap_or("").trim();
        Some(value.trim_matches('"').to_string())
    })
}

impl Tech {
    /// The installed technology `name`, with every file checked.
    pub fn find(name: &str) -> Result<Tech> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!(
                "ASIC technology {name:?} is not a name; use one of {}",
                TECHS.join(", ")
            );
        }
        let dir = tech_dir(name);
        let script_path = dir.join(format!("{name}.sh"));
        let script = std::fs::read_to_string(&script_path).with_context(|| {
            format!(
                "ASIC technology {name:?} is not installed: cannot read {} (the technologies are {}; `make setup` installs them, QFLOW_TECH_DIR points elsewhere)",
                script_path.display(),
                TECHS.join(", ")
            )
        })?;
        let file = |var: &str| -> Result<PathBuf> {
            let v = setup_var(&script, var)
                .with_context(|| format!("{} sets no `{var}`", script_path.display()))?;
            let p = if Path::new(&v).is_absolute() {
                PathBuf::from(v)
            } else {
                dir.join(v)
            };
            if !p.is_file() {
                bail!(
                    "{} names {var} {}, which does not exist",
                    script_path.display(),
                    p.display()
                );
            }
            Ok(p)
        };
        let liberty = file("libertyfile")?;
        let lef = file("leffile")?;
        let verilog = dir.join(format!("{name}_stdcells.v"));
        if !verilog.is_file() {
            bail!(
                "technology {name} has no Verilog cell models {}",
                verilog.display()
            );
        }
        Ok(Tech {
            name: name.into(),
            dir,
            liberty,
            lef,
            verilog,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_setup_variables() {
        let s = "# comment\nset leffile=osu018_stdcells.lef\n\
                 set flopcell=DFFPOSX1\t;# Standard positive-clocked DFF\n\
                 set tiehi=\"\"\t\t;# Cell to connect to power\n";
        assert_eq!(
            setup_var(s, "leffile").as_deref(),
            Some("osu018_stdcells.lef")
        );
        assert_eq!(setup_var(s, "flopcell").as_deref(), Some("DFFPOSX1"));
        assert_eq!(setup_var(s, "tiehi").as_deref(), Some(""));
        assert_eq!(setup_var(s, "flop"), None);
        assert_eq!(setup_var(s, "gdsfile"), None);
    }

    #[test]
    fn bad_names_are_refused_with_the_known_ones() {
        let e = format!("{:#}", Tech::find("../x").unwrap_err());
        assert!(
            e.contains("\"../x\" is not a name") && e.contains("osu018, osu035"),
            "{e}"
        );
        let e = format!("{:#}", Tech::find("osu999").unwrap_err());
        assert!(
            e.contains("\"osu999\" is not installed") && e.contains("make setup"),
            "{e}"
        );
    }
}
