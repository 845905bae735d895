//! Event traces a person can read: one line per message, operator step, state change and
//! checkpoint move, each with its simulated time, recorded only when asked for (`dcsum simulate
//! --trace SEED`), and cut to the events that matter: from the last moment every node was at
//! MATCH before the first violation, up to that violation.

use std::fmt;

/// One line of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLine {
    /// Simulated time in milliseconds.
    pub at_ms: u64,
    /// Who acted: `maintainer`, `node-2`, `network`, `check`.
    pub who: String,
    /// What happened.
    pub text: String,
}

impl fmt::Display for TraceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>9.3}s {:<10} {}",
            self.at_ms as f64 / 1000.0,
            self.who,
            self.text
        )
    }
}

/// Records lines when enabled; costs one branch per call otherwise.
#[derive(Clone, Debug, Default)]
pub struct Tracer {
    lines: Option<Vec<TraceLine>>,
    /// Indexes into `lines` where every node was at MATCH.
    all_match: Vec<usize>,
}

impl Tracer {
    /// A tracer that records (`on`) or not.
    pub fn new(on: bool) -> Tracer {
        Tracer {
            lines: on.then(Vec::new),
            all_match: Vec::new(),
        }
    }

    /// Whether it records.
    pub fn on(&self) -> bool {
        self.lines.is_some()
    }

    /// Records a line; `text` is only called when recording.
    pub fn log(&mut self, at_ms: u64, who: impl fmt::Display, text: impl FnOnce() -> String) {
        if let Some(lines) = &mut self.lines {
            lines.push(TraceLine {
                at_ms,
                who: who.to_string(),
                text: text(),
            });
        }
    }

    /// Notes that every node is at MATCH now (the start of a shortened trace).
    pub fn mark_all_match(&mut self) {
        if let Some(lines) = &self.lines {
            if self.all_match.last() != Some(&lines.len()) {
                self.all_match.push(lines.len());
            }
        }
    }

    /// The lines from the last all-MATCH mark at or before `until` (an index, or the end) up to
    /// and including `until`.
    pub fn shortened(&self, until: Option<usize>) -> &[TraceLine] {
        let Some(lines) = &self.lines else {
            return &[];
        };
        let end = until.map_or(lines.len(), |u| (u + 1).min(lines.len()));
        let start = self
            .all_match
            .iter()
            .rev()
            .find(|mark| **mark < end)
            .copied()
            .unwrap_or(0);
        &lines[start..end]
    }

    /// How many lines it holds.
    pub fn len(&self) -> usize {
        self.lines.as_ref().map_or(0, Vec::len)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every line.
    pub fn lines(&self) -> &[TraceLine] {
        self.lines.as_deref().unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortened_trace_starts_at_the_last_all_match_mark_before_the_end() {
        let mut tracer = Tracer::new(true);
        for i in 0..10 {
            if i == 3 || i == 6 {
                tracer.mark_all_match();
            }
            tracer.log(i * 100, "node-1", || format!("event {i}"));
        }
        let cut = tracer.shortened(Some(8));
        assert_eq!(cut.first().map(|l| l.text.as_str()), Some("event 6"));
        assert_eq!(cut.last().map(|l| l.text.as_str()), Some("event 8"));
        assert_eq!(tracer.shortened(Some(4))[0].text, "event 3");
        assert!(Tracer::new(false).shortened(None).is_empty());
        assert_eq!(format!("{}", cut[0]), "    0.600s node-1     event 6");
    }
}
