//! A confusion matrix (rows: true class, columns: predicted), printed the
//! same way by every command that classifies (`infer`, `r2nn eval`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion {
    pub names: Vec<String>,
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<usize>>,
}

impl Confusion {
    pub fn new(names: Vec<String>) -> Confusion {
        let c = names.len();
        Confusion {
            names,
            counts: vec![vec![0; c]; c],
        }
    }

    /// Classes named by their number, `0 .. classes-1`.
    pub fn numbered(classes: usize) -> Confusion {
        Confusion::new((0..classes).map(|c| c.to_string()).collect())
    }

    /// Counts one sample. A prediction outside the classes is an error of
    /// the caller (a device's class is checked before it gets here).
    pub fn add(&mut self, label: usize, predicted: usize) {
        self.counts[label][predicted] += 1;
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// Correct predictions per class, as a fraction of that class's samples
    /// (`None` for a class with none).
    pub fn recall(&self) -> Vec<Option<f64>> {
        self.counts
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let n: usize = row.iter().sum();
                (n > 0).then(|| row[i] as f64 / n as f64)
            })
            .collect()
    }
}

impl fmt::Display for Confusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .names
            .iter()
            .map(|n| n.chars().count())
            .chain(self.counts.iter().flatten().map(|v| v.to_string().len()))
            .max()
            .unwrap_or(1)
            .max(6)
            + 2;
        writeln!(f, "confusion (rows: true class, columns: predicted):")?;
        write!(f, "{:>w$}", "")?;
        for n in &self.names {
            write!(f, "{n:>w$}")?;
        }
        writeln!(f, "{:>w$}", "recall")?;
        for ((name, row), r) in self.names.iter().zip(&self.counts).zip(self.recall()) {
            write!(f, "{name:>w$}")?;
            for v in row {
                write!(f, "{v:>w$}")?;
            }
            match r {
                Some(r) => writeln!(f, "{:>w$}", format!("{:.1}%", 100.0 * r))?,
                None => writeln!(f, "{:>w$}", "-")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_prints_rows_as_true_classes() {
        let mut c = Confusion::numbered(3);
        for (l, p) in [(0, 0), (0, 0), (0, 1), (2, 2)] {
            c.add(l, p);
        }
        assert_eq!(c.counts, vec![vec![2, 1, 0], vec![0, 0, 0], vec![0, 0, 1]]);
        assert_eq!(c.total(), 4);
        assert_eq!(c.recall(), vec![Some(2.0 / 3.0), None, Some(1.0)]);
        let s = c.to_string();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 5, "{s}");
        assert!(
            lines[2]
                .split_whitespace()
                .eq(["0", "2", "1", "0", "66.7%"]),
            "{s}"
        );
        assert!(
            lines[3].split_whitespace().eq(["1", "0", "0", "0", "-"]),
            "{s}"
        );
    }
}
