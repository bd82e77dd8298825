//! What one run of a program produced, and how two runs differ.

use std::fmt;
use std::str::FromStr;

/// How a process ended. Timeouts and runaway output are the harness's
/// verdicts, never a reference's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Termination {
    Exited(i32),
    Signaled(i32),
    TimedOut,
    OutputLimitExceeded,
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Termination::Exited(code) => write!(f, "exit {code}"),
            Termination::Signaled(signal) => write!(f, "signal {signal}"),
            Termination::TimedOut => write!(f, "timeout"),
            Termination::OutputLimitExceeded => write!(f, "output limit exceeded"),
        }
    }
}

/// Parses what `Display` writes for the two real terminations (the format of
/// `expected/*.status`).
impl FromStr for Termination {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is neither `exit N` nor `signal N`");
        let (kind, number) = text.trim().split_once(' ').ok_or_else(bad)?;
        let number: i32 = number.parse().map_err(|_| bad())?;
        match kind {
            "exit" => Ok(Termination::Exited(number)),
            "signal" => Ok(Termination::Signaled(number)),
            _ => Err(bad()),
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Outcome {
    pub termination: Termination,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Outcome {
    /// Each way `self` differs from `reference`, described for a person:
    /// empty when they are the same. Names the two sides in the text.
    pub fn differences(
        &self,
        reference: &Outcome,
        reference_name: &str,
        self_name: &str,
    ) -> Vec<String> {
        let mut differences = Vec::new();
        if self.termination != reference.termination {
            differences.push(format!(
                "status: {reference_name} {}, {self_name} {}",
                reference.termination, self.termination
            ));
        }
        for (stream, ours, theirs) in [
            ("stdout", &self.stdout, &reference.stdout),
            ("stderr", &self.stderr, &reference.stderr),
        ] {
            if ours != theirs {
                differences.push(describe_text_difference(
                    stream,
                    theirs,
                    ours,
                    reference_name,
                    self_name,
                ));
            }
        }
        differences
    }
}

/// Lines shown from the first difference on, per side.
const CONTEXT_LINES: usize = 3;

fn describe_text_difference(
    stream: &str,
    reference: &[u8],
    actual: &[u8],
    reference_name: &str,
    actual_name: &str,
) -> String {
    let reference = String::from_utf8_lossy(reference);
    let actual = String::from_utf8_lossy(actual);
    let reference_lines: Vec<&str> = reference.split_inclusive('\n').collect();
    let actual_lines: Vec<&str> = actual.split_inclusive('\n').collect();
    let first = reference_lines
        .iter()
        .zip(&actual_lines)
        .position(|(a, b)| a != b)
        .unwrap_or(reference_lines.len().min(actual_lines.len()));
    let width = reference_name.len().max(actual_name.len());
    let mut text = format!(
        "{stream} differs from line {} on ({reference_name}: {} lines, {} bytes; {actual_name}: {} lines, {} bytes)",
        first + 1,
        reference_lines.len(),
        reference.len(),
        actual_lines.len(),
        actual.len()
    );
    for (name, lines) in [
        (reference_name, &reference_lines),
        (actual_name, &actual_lines),
    ] {
        let shown = lines.iter().skip(first).take(CONTEXT_LINES);
        let mut any = false;
        for line in shown {
            text.push_str(&format!("\n      {name:width$} | {line:?}"));
            any = true;
        }
        if !any {
            text.push_str(&format!("\n      {name:width$} | <end of {stream}>"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(termination: Termination, stdout: &str) -> Outcome {
        Outcome {
            termination,
            stdout: stdout.into(),
            stderr: Vec::new(),
        }
    }

    #[test]
    fn identical_outcomes_have_no_differences() {
        let a = outcome(Termination::Exited(0), "a\nb\n");
        assert!(a.differences(&a.clone(), "native", "transit").is_empty());
    }

    #[test]
    fn reports_status_and_first_differing_line() {
        let reference = outcome(Termination::Exited(0), "same\nold\ntail\n");
        let actual = outcome(Termination::Signaled(11), "same\nnew\n");
        let differences = actual.differences(&reference, "native", "transit");
        assert_eq!(differences.len(), 2);
        assert_eq!(differences[0], "status: native exit 0, transit signal 11");
        assert!(
            differences[1].starts_with("stdout differs from line 2 on"),
            "{}",
            differences[1]
        );
        assert!(
            differences[1].contains("native  | \"old\\n\""),
            "{}",
            differences[1]
        );
        assert!(
            differences[1].contains("transit | \"new\\n\""),
            "{}",
            differences[1]
        );
    }

    #[test]
    fn reports_missing_tail() {
        let reference = outcome(Termination::Exited(0), "a\nb\n");
        let actual = outcome(Termination::Exited(0), "a\n");
        let differences = actual.differences(&reference, "native", "transit");
        assert!(
            differences[0].contains("transit | <end of stdout>"),
            "{}",
            differences[0]
        );
    }

    #[test]
    fn status_round_trips() {
        for termination in [Termination::Exited(42), Termination::Signaled(11)] {
            assert_eq!(
                termination.to_string().parse::<Termination>(),
                Ok(termination)
            );
        }
        assert!("timeout".parse::<Termination>().is_err());
    }
}
