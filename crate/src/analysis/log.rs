//! Analysis of a stream's events: the marking after each event, as CSV of
//! state vectors (one row per event: seq, action, actor, ts, a column per
//! place), and the firing-count vector (how many times each transition
//! fired, multiples included).
//!
//! The markings are not read from the events: they are recomputed by
//! replaying every event through the engine from the model's initial
//! marking, using only the fields `seq`, `action`, `multiple`, `roles`,
//! `actor` and `ts`. A log that does not replay (a gap in seq, an action the
//! net refuses) is an error naming the event, never a silently wrong table.
//! Hashes are not checked here: that is [`crate::chain::verify_events`].

use serde::Serialize;

use super::AnalysisError;
use crate::chain::Event;
use crate::engine::{Marking, RoleSet};
use crate::model::{Model, MAX_TOKENS};

/// The fields of an event that replay needs. Implemented for
/// [`chain::Event`](crate::chain::Event) and for [`Firing`].
pub trait LoggedFiring {
    /// Position in the stream, from 1.
    fn seq(&self) -> u64;
    /// The transition fired.
    fn action(&self) -> &str;
    /// How many times at once.
    fn multiple(&self) -> u64;
    /// Roles claimed.
    fn roles(&self) -> &[String];
    /// Who fired it.
    fn actor(&self) -> &str;
    /// Milliseconds since the Unix epoch.
    fn ts(&self) -> u64;
}

impl LoggedFiring for Event {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn action(&self) -> &str {
        &self.action
    }
    fn multiple(&self) -> u64 {
        self.multiple
    }
    fn roles(&self) -> &[String] {
        &self.roles
    }
    fn actor(&self) -> &str {
        &self.actor
    }
    fn ts(&self) -> u64 {
        self.ts
    }
}

/// Just the replayed fields of an event, e.g. read from JavaScript objects
/// (other fields are ignored when deserialising).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Firing {
    /// Position in the stream, from 1.
    pub seq: u64,
    /// The transition fired.
    pub action: String,
    /// How many times at once (>= 1).
    pub multiple: u64,
    /// Roles claimed.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Who fired it.
    #[serde(default)]
    pub actor: String,
    /// Milliseconds since the Unix epoch.
    #[serde(default)]
    pub ts: u64,
}

impl LoggedFiring for Firing {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn action(&self) -> &str {
        &self.action
    }
    fn multiple(&self) -> u64 {
        self.multiple
    }
    fn roles(&self) -> &[String] {
        &self.roles
    }
    fn actor(&self) -> &str {
        &self.actor
    }
    fn ts(&self) -> u64 {
        self.ts
    }
}

/// Replays events one at a time from the initial marking.
///
/// ```
/// # use petrichain::analysis::{Firing, Replay};
/// # let (model, _) = petrichain::formats::json::import_json(r#"{"places":[{"id":"p","initial":3}],"transitions":[{"id":"t"}],"arcs":[{"source":"p","target":"t"}]}"#).unwrap();
/// let events = vec![Firing { seq: 1, action: "t".into(), multiple: 2, roles: vec![], actor: "ann".into(), ts: 0 }];
/// let mut replay = Replay::new(&model);
/// replay.push(&events[0]).unwrap();
/// assert_eq!(replay.marking().0, vec![1]);
/// ```
pub struct Replay<'m> {
    model: &'m Model,
    marking: Marking,
    seq: u64,
    roles: Vec<String>,
    role_set: RoleSet,
}

impl<'m> Replay<'m> {
    /// At the start of a stream: seq 0, the initial marking.
    pub fn new(model: &'m Model) -> Replay<'m> {
        Replay {
            model,
            marking: model.initial_marking(),
            seq: 0,
            roles: Vec::new(),
            role_set: RoleSet::none(),
        }
    }

    /// The marking after the events pushed so far.
    pub fn marking(&self) -> &Marking {
        &self.marking
    }

    /// Seq of the last event pushed (0 before any).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Replays the next event: its seq must be the next one and the net must
    /// allow it (for its roles and multiple). On error nothing changes.
    pub fn push<E: LoggedFiring + ?Sized>(&mut self, e: &E) -> Result<(), AnalysisError> {
        let expected = self.seq + 1;
        if e.seq() != expected {
            return Err(AnalysisError::SeqGap {
                expected,
                found: e.seq(),
            });
        }
        let replay_error = |error| AnalysisError::Replay {
            seq: e.seq(),
            action: e.action().to_string(),
            error,
        };
        let t = self.model.transition_index(e.action()).ok_or_else(|| {
            replay_error(crate::FireError::UnknownTransition {
                transition: e.action().to_string(),
            })
        })?;
        if e.roles() != self.roles.as_slice() {
            self.roles = e.roles().to_vec();
            let names: Vec<&str> = self.roles.iter().map(String::as_str).collect();
            self.role_set = self.model.roles(&names);
        }
        self.model
            .fire_in_place(&mut self.marking, t, e.multiple(), &self.role_set)
            .map_err(replay_error)?;
        self.seq = expected;
        Ok(())
    }
}

/// Appends `field` to `out` as one CSV field (RFC 4180): quoted when it
/// holds a comma, a quote, a CR or LF, or starts or ends with a space; quotes
/// doubled.
pub(crate) fn push_csv_field(out: &mut String, field: &str) {
    let quote =
        field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ');
    if quote {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// The events as CSV of state vectors: a header `seq,action,actor,ts,`
/// then one column per place (ids, in the model's order), then one row per
/// event with the marking *after* it, recomputed by replay. Lines end with
/// `\n`. Spreadsheet programs may treat a cell starting with `=`, `+`, `-`
/// or `@` as a formula: the values are written as they are, for analysis
/// tools, and should be opened as text.
pub fn events_csv<E: LoggedFiring>(model: &Model, events: &[E]) -> Result<String, AnalysisError> {
    let mut out = String::from("seq,action,actor,ts");
    for p in model.places() {
        out.push(',');
        push_csv_field(&mut out, &p.id);
    }
    out.push('\n');
    let mut replay = Replay::new(model);
    for e in events {
        replay.push(e)?;
        out.push_str(&e.seq().to_string());
        out.push(',');
        push_csv_field(&mut out, e.action());
        out.push(',');
        push_csv_field(&mut out, e.actor());
        out.push(',');
        out.push_str(&e.ts().to_string());
        for n in &replay.marking().0 {
            out.push(',');
            out.push_str(&n.to_string());
        }
        out.push('\n');
    }
    Ok(out)
}

/// How many times one transition fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FiringCount {
    /// The transition.
    pub transition: String,
    /// Firings, a multiple of k counting k.
    pub count: u64,
}

/// The firing-count vector of a log (the Parikh vector): by the state
/// equation, the final marking is m0 + C · counts for nets without reset
/// arcs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FiringCounts {
    /// Events replayed.
    pub events: u64,
    /// One entry per transition, in the model's order (zeros included).
    pub counts: Vec<FiringCount>,
    /// The marking after the last event: place id -> tokens.
    pub marking: std::collections::BTreeMap<String, u64>,
}

/// The firing-count vector of `events`, checked by replay.
pub fn firing_counts<E: LoggedFiring>(
    model: &Model,
    events: &[E],
) -> Result<FiringCounts, AnalysisError> {
    let mut counts = vec![0u64; model.transitions().len()];
    let mut replay = Replay::new(model);
    for e in events {
        replay.push(e)?;
        // push checked that the action exists.
        let t = model.transition_index(e.action()).unwrap_or(0);
        counts[t] = counts[t]
            .checked_add(e.multiple())
            .filter(|&n| n <= MAX_TOKENS)
            .ok_or_else(|| AnalysisError::Overflow {
                what: format!("firing count of '{}'", e.action()),
                value: counts[t],
            })?;
    }
    Ok(FiringCounts {
        events: replay.seq(),
        counts: model
            .transitions()
            .iter()
            .zip(counts)
            .map(|(t, count)| FiringCount {
                transition: t.id.clone(),
                count,
            })
            .collect(),
        marking: model.marking_map(replay.marking()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        let mut s = String::new();
        for f in ["plain", "a,b", "say \"hi\"", "two\nlines", " pad", ""] {
            push_csv_field(&mut s, f);
            s.push('|');
        }
        assert_eq!(
            s,
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\" pad\"||"
        );
    }
}
