//! Progress of a long step on stderr (`indicatif`): a bar redrawn in place
//! on a terminal, nothing at all elsewhere (CI, a pipe, a test), so logs
//! hold only the results. Safe to tick from many threads.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar for `total` items of a step: `what` names the step, `unit` what
/// is counted (plural). Hidden when stderr is not a terminal.
pub fn bar(what: &str, unit: &str, total: u64) -> ProgressBar {
    let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}} ({{elapsed}}, {{eta}} left)"
        ))
        .expect("a valid template")
        .progress_chars("#>."),
    );
    b.set_prefix(what.to_string());
    b
}

/// A spinner with the elapsed time for a step of unknown length (a build),
/// `what` naming it; hidden when stderr is not a terminal.
pub fn spinner(what: &str) -> ProgressBar {
    let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template("{spinner} {prefix} ({elapsed})").expect("a valid template"),
    );
    b.set_prefix(what.to_string());
    b.enable_steady_tick(std::time::Duration::from_millis(200));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_off_a_terminal() {
        use std::io::IsTerminal;
        let b = bar("verify-spice", "signals", 25);
        // a test's stderr is captured, not a terminal: nothing is drawn
        assert_eq!(b.is_hidden(), !std::io::stderr().is_terminal());
        for _ in 0..25 {
            b.inc(1);
        }
        assert_eq!(b.position(), 25);
        b.finish_and_clear();
        let s = spinner("make report");
        assert_eq!(s.is_hidden(), !std::io::stderr().is_terminal());
        s.finish_and_clear();
    }
}
