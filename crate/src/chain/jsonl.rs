//! A stream as JSON lines: one header line naming the stream and carrying
//! its net, then one event per line, in seq order.
//!
//! ```text
//! {"format":"petrichain-stream","version":1,"stream":"game-1","model":"<id>","net":{...canonical model...}}
//! {"stream":"game-1","seq":1,...,"hash":"..."}
//! ```
//!
//! The file is self-contained: a reader rebuilds the net from `net`, checks
//! that its id is `model`, and verifies every event by replay
//! ([`parse`] does all of it and fails on the first problem).

use serde::{Deserialize, Serialize};

use super::{ChainError, Event, Verified, Verifier};
use crate::formats::json::import_json;
use crate::model::Model;

/// Value of the header's `format` field.
pub const FORMAT: &str = "petrichain-stream";
/// Version of the JSON-lines format.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    stream: String,
    model: String,
    net: serde_json::Value,
}

/// Writes the header line and one line per event, each ending in `\n`.
pub fn write(model: &Model, stream: &str, events: &[Event], out: &mut String) {
    let net: serde_json::Value =
        serde_json::from_str(&model.canonical_json()).unwrap_or(serde_json::Value::Null);
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        stream: stream.into(),
        model: model.id().into(),
        net,
    };
    // Plain structs of strings, numbers and JSON values always serialise.
    out.push_str(&serde_json::to_string(&header).unwrap_or_default());
    out.push('\n');
    for e in events {
        out.push_str(&serde_json::to_string(e).unwrap_or_default());
        out.push('\n');
    }
}

/// A parsed and fully verified JSON-lines file.
#[derive(Debug)]
pub struct Parsed {
    /// The net, rebuilt from the header.
    pub model: Model,
    /// The stream id.
    pub stream: String,
    /// Every event, verified by replay.
    pub events: Vec<Event>,
    /// The verification summary.
    pub verified: Verified,
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
    if header.format != FORMAT || header.version != VERSION {
        return Err(syntax(
            n,
            format!(
                "unsupported format '{}' version {} (expected '{FORMAT}' version {VERSION})",
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
    let mut events = Vec::new();
    let mut verifier = Verifier::new(&model, &header.stream);
    for (n, line) in lines {
        let event: Event =
            serde_json::from_str(line).map_err(|e| syntax(n, format!("bad event: {e}")))?;
        verifier.push(&event)?;
        events.push(event);
    }
    let verified = verifier.finish();
    Ok(Parsed {
        stream: header.stream,
        model,
        events,
        verified,
    })
}
