//! A stream as JSON lines: one header line naming the stream and carrying
//! its net, then one event per line, in seq order.
//!
//! ```text
//! {"format":"petrichain-stream","version":2,"stream":"game-1","model":"<id>","net":{...canonical model...}}
//! {"v":2,"stream":"game-1","seq":1,...,"hash":"...","sig":"..."}
//! ```
//!
//! The file is self-contained: a reader rebuilds the net from `net`, checks
//! that its id is `model`, and verifies every event by replay
//! ([`parse`] does all of it and fails on the first problem). Files of
//! version 1 (events with `state`, unsigned) are read too: verified under
//! their own rules ([`super::v1`]) and handed back for upgrading.

use serde::Deserialize;

use super::v1::{self, EventV1};
use super::{ChainError, Event, Verified, Verifier};
use crate::formats::json::import_json;
use crate::model::Model;

/// Value of the header's `format` field.
pub const FORMAT: &str = "petrichain-stream";
/// Version of the JSON-lines format written (the chain format's).
pub const VERSION: u32 = 2;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    stream: String,
    model: String,
    net: serde_json::Value,
}

/// Writes the header line and one line per event, each ending in `\n`.
/// The header's `net` is the model's canonical JSON text, byte for byte.
pub fn write(model: &Model, stream: &str, events: &[Event], out: &mut String) {
    // Serialising a string or a plain struct of strings and numbers cannot fail.
    let string = |s: &str| serde_json::to_string(s).unwrap_or_default();
    out.push_str(&format!(
        "{{\"format\":{},\"version\":{VERSION},\"stream\":{},\"model\":{},\"net\":{}}}\n",
        string(FORMAT),
        string(stream),
        string(model.id()),
        model.canonical_json()
    ));
    for e in events {
        out.push_str(&serde_json::to_string(e).unwrap_or_default());
        out.push('\n');
    }
}

/// The events of a parsed file.
#[derive(Debug)]
pub enum Chain {
    /// Version 2 events, fully verified.
    V2 {
        /// The events.
        events: Vec<Event>,
        /// The verification summary.
        verified: Verified,
    },
    /// Version 1 events, verified under the version 1 rules, to be upgraded
    /// ([`super::v1`]) before they are stored.
    V1(Vec<EventV1>),
}

/// A parsed and fully verified JSON-lines file.
#[derive(Debug)]
pub struct Parsed {
    /// The net, rebuilt from the header.
    pub model: Model,
    /// The stream id.
    pub stream: String,
    /// The events.
    pub chain: Chain,
}

/// Parses a file and verifies every event; fails on the first problem
/// (a syntax error names its line, a chain error its seq).
pub fn parse(text: &str) -> Result<Parsed, ChainError> {
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty());
    let syntax = |line: usize, message: String| ChainError::ImportSyntax { line, message };
    let (n, first) = lines
        .next()
        .ok_or_else(|| syntax(1, "empty file: expected a header line".into()))?;
    let header: Header =
        serde_json::from_str(first).map_err(|e| syntax(n, format!("bad header: {e}")))?;
    if header.format != FORMAT || !(1..=VERSION).contains(&header.version) {
        return Err(syntax(
            n,
            format!(
                "unsupported format '{}' version {} (expected '{FORMAT}' version 1 to {VERSION})",
                header.format, header.version
            ),
        ));
    }
    super::event::check_id("stream", &header.stream, false)?;
    let (model, _warnings) =
        import_json(&header.net.to_string()).map_err(|e| ChainError::InvalidModel {
            message: e.to_string(),
        })?;
    if model.id() != header.model {
        return Err(syntax(
            n,
            format!(
                "header names model {} but its net has id {}",
                header.model,
                model.id()
            ),
        ));
    }
    let chain = if header.version == 1 {
        let events = lines
            .map(|(n, line)| {
                serde_json::from_str::<EventV1>(line)
                    .map_err(|e| syntax(n, format!("bad version 1 event: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        v1::verify(&model, &header.stream, &events)?;
        Chain::V1(events)
    } else {
        let mut events = Vec::new();
        // An export carries the chain as stored: signature runs included.
        let mut verifier = Verifier::new(&model, &header.stream).accept_runs();
        for (n, line) in lines {
            let event: Event =
                serde_json::from_str(line).map_err(|e| syntax(n, format!("bad event: {e}")))?;
            verifier.push(&event)?;
            events.push(event);
        }
        let verified = verifier.finish()?;
        Chain::V2 { events, verified }
    };
    Ok(Parsed {
        stream: header.stream,
        model,
        chain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header carries the canonical JSON as it is, keys in RFC 8785
    /// order (a `serde_json::Value` would re-sort them by UTF-8 bytes).
    #[test]
    fn the_header_carries_the_canonical_text_and_reads_back() {
        let (model, _) = import_json(
            r#"{"places":[{"id":"\ue000"},{"id":"\ud83d\ude00","initial":1}],"transitions":[],"arcs":[],
                "finalMarkings":[{"\ue000":1}, {"\ud83d\ude00":1, "\ue000":0}]}"#,
        )
        .unwrap();
        let mut out = String::new();
        write(&model, "s\"1", &[], &mut out);
        assert_eq!(
            out,
            format!(
                "{{\"format\":\"petrichain-stream\",\"version\":2,\"stream\":\"s\\\"1\",\"model\":\"{}\",\"net\":{}}}\n",
                model.id(),
                model.canonical_json()
            )
        );
        assert!(model
            .canonical_json()
            .contains("{\"\u{1F600}\":1,\"\u{E000}\":0}"));
        let parsed = parse(&out).unwrap();
        assert_eq!(
            (parsed.model.id(), parsed.stream.as_str()),
            (model.id(), "s\"1")
        );
    }
}
