//! Progress of a long step on stderr: on a terminal one line redrawn in
//! place, elsewhere (CI, a pipe) a plain line at every tenth of the work.
//! Safe to tick from many threads.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

pub struct Counter {
    what: String,
    unit: String,
    total: usize,
    done: AtomicUsize,
    tty: bool,
    start: Instant,
    out: Mutex<()>,
}

impl Counter {
    /// `what`: the step's name; `unit`: what is counted (plural).
    pub fn new(what: &str, unit: &str, total: usize) -> Counter {
        Counter {
            what: what.into(),
            unit: unit.into(),
            total,
            done: AtomicUsize::new(0),
            tty: std::io::stderr().is_terminal(),
            start: Instant::now(),
            out: Mutex::new(()),
        }
    }

    /// The line for `done` items, or `None` when nothing is to be printed
    /// (off a terminal, only at every tenth of the total and at the end).
    pub fn line(&self, done: usize, tty: bool) -> Option<String> {
        let tenth = self.total.div_ceil(10).max(1);
        if !tty && done != self.total && !done.is_multiple_of(tenth) {
            return None;
        }
        let el = self.start.elapsed().as_secs_f64();
        let left = if done > 0 && done < self.total {
            format!(
                ", about {:.0} s left",
                el / done as f64 * (self.total - done) as f64
            )
        } else {
            String::new()
        };
        Some(format!(
            "{}: {done}/{} {} in {el:.0} s{left}",
            self.what, self.total, self.unit
        ))
    }

    /// One more item done.
    pub fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(l) = self.line(done, self.tty) {
            let _g = self.out.lock();
            if self.tty {
                eprint!("\r\x1b[K{l}");
                if done == self.total {
                    eprintln!();
                }
            } else {
                eprintln!("{l}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_at_every_tenth_and_the_end() {
        let c = Counter::new("verify-spice", "signals", 25);
        let printed: Vec<usize> = (1..=25).filter(|&d| c.line(d, false).is_some()).collect();
        assert_eq!(printed, vec![3, 6, 9, 12, 15, 18, 21, 24, 25]);
        assert!((1..=25).all(|d| c.line(d, true).is_some()));
        let l = c.line(25, false).unwrap();
        assert!(l.starts_with("verify-spice: 25/25 signals in "), "{l}");
        assert!(c.line(3, false).unwrap().contains("s left"));
    }
}
