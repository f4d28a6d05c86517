//! TAPAAL's `.tapn` files (timed-arc Petri nets, TAPAAL 3 and later).
//!
//! A `.tapn` is XML with root `<pnml>`, like PNML, but nodes and arcs keep
//! their data in attributes: `<place id name initialMarking invariant
//! positionX positionY>`, `<transition id name positionX positionY
//! urgent>`, `<arc source target type weight inscription>` with `type`
//! `timed` (place to transition), `normal` (transition to place),
//! `tapnInhibitor` or `transport` (a pair of arcs sharing a
//! `transportID`). A file may hold several components (`<net>`s) that share
//! places and transitions (`<shared-place>`, `<shared-transition>`): the
//! components are fused into one net, a shared node being one node, the
//! others keeping their id when it is unique and becoming `component.id`
//! otherwise. Inactive components (`active="false"`) are left out with a
//! warning, as TAPAAL's verification leaves them out.
//!
//! petrichain nets are untimed, so the net is read with its untimed
//! semantics: a timed input arc consumes its weight (a transport arc
//! consumes and produces as an input and an output arc), an inhibitor arc
//! inhibits at its weight. Time intervals other than `[0,inf)`, place
//! invariants other than `< inf`, urgent transitions and
//! queries are not kept, each with a warning saying so. Positions are the
//! top-left corner of TAPAAL's 30 x 30 node box (TAPAAL is a fork of PIPE):
//! nodes move 15 right and down, and the arcs' first and last `arcpath`
//! points (their ends) are dropped. Detected by [`super::detect`] from a
//! `<pnml>` root whose nodes carry `positionX` attributes or that declares
//! shared nodes.

use super::xml::{self, Doc, El, IdMap};
use super::{ImportError, ImportLimits, Imported, Warning};
use crate::model::{Arc, ArcKind, Model, ModelData, Place, Point, Transition};

/// The offset from a TAPAAL position (top-left corner) to the node's centre.
const CENTRE: i32 = 15;

/// Reads a TAPAAL `.tapn` file with default limits.
///
/// ```
/// use petrichain::formats::tapn::import_tapn;
/// let (model, warnings) = import_tapn(r#"<pnml><net id="TAPN1" active="true" type="P/T net">
///   <place id="P0" name="P0" initialMarking="2" invariant="&lt; inf" positionX="100" positionY="50"/>
///   <transition id="T0" name="T0" positionX="200" positionY="50" urgent="false"/>
///   <arc id="a" source="P0" target="T0" type="timed" inscription="[0,inf)" weight="2"/>
/// </net></pnml>"#).unwrap();
/// assert_eq!(model.places()[0].initial, 2);
/// assert_eq!((model.places()[0].x, model.places()[0].y), (115, 65));
/// assert_eq!(model.arcs()[0].weight, 2);
/// assert!(warnings.is_empty());
/// ```
pub fn import_tapn(input: impl AsRef<[u8]>) -> Result<Imported, ImportError> {
    import_tapn_with(input, &ImportLimits::default())
}

/// Like [`import_tapn`] with explicit limits.
pub fn import_tapn_with(
    input: impl AsRef<[u8]>,
    limits: &ImportLimits,
) -> Result<Imported, ImportError> {
    xml::read_document(input.as_ref(), limits, read)
}

/// Whether a parsed `<pnml>` document is TAPAAL's: a shared node, or a
/// place or transition with TAPAAL's `positionX` attribute.
pub(crate) fn is_tapn(doc: &Doc) -> bool {
    doc.root().children().any(|c| match c.name() {
        "shared-place" | "shared-transition" | "k-bound" => true,
        "net" => c
            .children()
            .take(64)
            .any(|n| matches!(n.name(), "place" | "transition") && n.attr("positionX").is_some()),
        _ => false,
    })
}

/// Reads a parsed TAPAAL document.
pub(crate) fn read(doc: &Doc) -> Result<Imported, ImportError> {
    let root = doc.root();
    if root.name() != "pnml" {
        return Err(ImportError::WrongRoot {
            position: doc.position(root.offset()),
            found: root.name().to_string(),
            expected: "<pnml> (TAPAAL .tapn)".into(),
        });
    }
    let mut r = Reader {
        doc,
        warnings: Vec::new(),
        data: ModelData::default(),
        nodes: IdMap::default(),
        shared: IdMap::default(),
    };
    // Shared nodes first: every component refers to them by name.
    for c in root.children() {
        match c.name() {
            "shared-place" => {
                let id = r.id(c, "name")?;
                let initial = r.count(id, c, c.attr("initialMarking").unwrap_or("0"))?;
                r.invariant(id, c);
                r.shared.insert(id, true);
                r.add_place(id, c, initial, (0, 0))?;
            }
            "shared-transition" => {
                let id = r.id(c, "name")?;
                r.urgent(id, c);
                r.shared.insert(id, false);
                r.add_transition(id, c, (0, 0))?;
            }
            _ => {}
        }
    }
    let nets: Vec<El> = root.children().filter(|c| c.name() == "net").collect();
    if nets.is_empty() {
        return Err(doc.bad("pnml", root, "the file contains no <net>".into()));
    }
    // Ids used by more than one component are qualified by the component.
    let mut owners: IdMap<&str, usize> = IdMap::default();
    for net in &nets {
        for n in net.children() {
            if matches!(n.name(), "place" | "transition") {
                if let Some(id) = n.attr("id").filter(|id| !r.shared.contains_key(id)) {
                    *owners.entry(id).or_default() += 1;
                }
            }
        }
    }
    let mut arcs = Vec::new();
    for net in nets {
        let component = net.id();
        if net.attr("active") == Some("false") {
            r.warn(
                component,
                net,
                "inactive component left out, as TAPAAL's verification leaves it out".into(),
            );
            continue;
        }
        let qualify = |id: &str| -> String {
            if owners.get(id).copied().unwrap_or(0) > 1 {
                format!("{component}.{id}")
            } else {
                id.to_string()
            }
        };
        let mut local: IdMap<&str, String> = IdMap::default();
        for n in net.children() {
            match n.name() {
                "place" | "transition" => {
                    let id = r.id(n, "id")?;
                    let xy = r.position(id, n)?;
                    if r.shared.contains_key(id) {
                        // The component's copy of a shared node: its position.
                        r.place_shared(id, xy);
                        local.insert(id, id.to_string());
                        continue;
                    }
                    let name = qualify(id);
                    if n.name() == "place" {
                        let initial = r.count(id, n, n.attr("initialMarking").unwrap_or("0"))?;
                        r.invariant(id, n);
                        r.add_place(&name, n, initial, xy)?;
                    } else {
                        r.urgent(id, n);
                        r.add_transition(&name, n, xy)?;
                    }
                    local.insert(id, name);
                }
                "arc" => arcs.push((n, component)),
                "labels" => {}
                other => r.warn(
                    component,
                    n,
                    format!("unknown element <{other}> in component {component} ignored"),
                ),
            }
        }
        let arcs_here: Vec<El> = arcs
            .drain(..)
            .filter(|(_, c)| *c == component)
            .map(|(a, _)| a)
            .collect();
        for a in arcs_here {
            r.arc(a, &local)?;
        }
    }
    for c in root.children() {
        match c.name() {
            "net" | "shared-place" | "shared-transition" => {}
            "query" | "k-bound" | "feature" => r.warn(
                c.name(),
                c,
                format!(
                    "TAPAAL <{}> not kept: petrichain keeps the net only",
                    c.name()
                ),
            ),
            other => r.warn("pnml", c, format!("unknown element <{other}> ignored")),
        }
    }
    r.warnings
        .sort_by_key(|w| w.position.map(|p| (p.line, p.column)));
    Ok((Model::new(r.data)?, r.warnings))
}

struct Reader<'d, 'a> {
    doc: &'d Doc<'a>,
    warnings: Vec<Warning>,
    data: ModelData,
    /// Node id (as stored) -> is a place, and where it was declared.
    nodes: IdMap<String, (bool, usize)>,
    /// Shared node names -> is a place.
    shared: IdMap<&'d str, bool>,
}

impl<'d, 'a> Reader<'d, 'a> {
    fn warn(&mut self, element: &str, el: El, message: String) {
        self.warnings.push(self.doc.warning(element, el, message));
    }

    fn id(&self, el: El<'d, 'a>, attr: &str) -> Result<&'d str, ImportError> {
        match el.attr(attr) {
            Some(id) if !id.is_empty() => Ok(id),
            _ => Err(self.doc.bad(
                el.name(),
                el,
                format!("<{}> without a {attr} attribute", el.name()),
            )),
        }
    }

    fn count(&self, element: &str, el: El, text: &str) -> Result<u64, ImportError> {
        self.doc.count(element, el, text)
    }

    fn position(&self, element: &str, el: El) -> Result<(i32, i32), ImportError> {
        let x = self
            .doc
            .coordinate(element, el, el.attr("positionX").unwrap_or("0"))?;
        let y = self
            .doc
            .coordinate(element, el, el.attr("positionY").unwrap_or("0"))?;
        match (x.checked_add(CENTRE), y.checked_add(CENTRE)) {
            (Some(x), Some(y)) => Ok((x, y)),
            _ => Err(self.doc.bad(
                element,
                el,
                "position out of range once moved to the node's centre".into(),
            )),
        }
    }

    fn declare(&mut self, id: &str, el: El, place: bool) -> Result<(), ImportError> {
        if let Some(&(_, first)) = self.nodes.get(id) {
            return Err(ImportError::DuplicateId {
                id: id.to_string(),
                position: self.doc.position(el.offset()),
                first: self.doc.position(first),
            });
        }
        self.nodes.insert(id.to_string(), (place, el.offset()));
        Ok(())
    }

    fn add_place(
        &mut self,
        id: &str,
        el: El,
        initial: u64,
        (x, y): (i32, i32),
    ) -> Result<(), ImportError> {
        self.declare(id, el, true)?;
        let label = el.attr("name").filter(|n| *n != id).unwrap_or("");
        self.data.places.push(Place {
            keyed: false,
            id: id.to_string(),
            label: label.to_string(),
            initial,
            capacity: 0,
            x,
            y,
        });
        Ok(())
    }

    fn add_transition(&mut self, id: &str, el: El, (x, y): (i32, i32)) -> Result<(), ImportError> {
        self.declare(id, el, false)?;
        let label = el.attr("name").filter(|n| *n != id).unwrap_or("");
        self.data.transitions.push(Transition {
            distinct: Vec::new(),
            signer: Vec::new(),
            params: Vec::new(),
            id: id.to_string(),
            label: label.to_string(),
            roles: Vec::new(),
            x,
            y,
        });
        Ok(())
    }

    /// A shared node takes the position of its first component copy.
    fn place_shared(&mut self, id: &str, (x, y): (i32, i32)) {
        if let Some(p) = self
            .data
            .places
            .iter_mut()
            .find(|p| p.id == id && (p.x, p.y) == (0, 0))
        {
            (p.x, p.y) = (x, y);
        } else if let Some(t) = self
            .data
            .transitions
            .iter_mut()
            .find(|t| t.id == id && (t.x, t.y) == (0, 0))
        {
            (t.x, t.y) = (x, y);
        }
    }

    fn invariant(&mut self, id: &str, el: El) {
        let inv = el.attr("invariant").unwrap_or("< inf");
        if inv.split_whitespace().collect::<String>() != "<inf" {
            self.warn(
                id,
                el,
                format!(
                    "age invariant \"{}\" ignored: petrichain nets are untimed",
                    xml::shorten(inv)
                ),
            );
        }
    }

    fn urgent(&mut self, id: &str, el: El) {
        if el.attr("urgent") == Some("true") {
            self.warn(
                id,
                el,
                "urgent transition read as an ordinary one: petrichain nets are untimed".into(),
            );
        }
    }

    fn arc(&mut self, el: El<'d, 'a>, local: &IdMap<&str, String>) -> Result<(), ImportError> {
        let (source, target) = (
            el.attr("source").unwrap_or(""),
            el.attr("target").unwrap_or(""),
        );
        let name = match el.attr("id") {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => format!("{source}->{target}"),
        };
        let resolve = |id: &str| -> Result<String, ImportError> {
            match local.get(id) {
                Some(stored) => Ok(stored.clone()),
                None => Err(ImportError::MissingNode {
                    element: name.clone(),
                    position: self.doc.position(el.offset()),
                    node: id.to_string(),
                    expected: "place or transition of this component".into(),
                }),
            }
        };
        let (s, t) = (resolve(source)?, resolve(target)?);
        let kind_attr = el.attr("type").unwrap_or("normal");
        let inscription = el.attr("inscription").unwrap_or("");
        let weight = match el.attr("weight") {
            Some(w) => self.count(&name, el, w)?,
            // Older files: an output arc's inscription is its weight.
            None if kind_attr == "normal" && !inscription.trim().is_empty() => {
                self.count(&name, el, inscription)?
            }
            None => 1,
        };
        let kind = match kind_attr {
            "timed" | "normal" | "transport" => ArcKind::Normal,
            "tapnInhibitor" => ArcKind::Inhibitor,
            other => {
                return Err(self.doc.unsupported(
                    &name,
                    el,
                    format!("TAPAAL arc type \"{}\"", xml::shorten(other)),
                ))
            }
        };
        if matches!(kind_attr, "timed" | "transport" | "tapnInhibitor") {
            let interval = inscription.split(':').next().unwrap_or("").trim();
            let plain: String = interval.split_whitespace().collect();
            if !plain.is_empty() && plain != "[0,inf)" {
                self.warn(
                    &name,
                    el,
                    format!(
                        "time interval {} ignored: petrichain nets are untimed",
                        xml::shorten(interval)
                    ),
                );
            }
        }
        let mut points: Vec<Point> = Vec::new();
        for c in el.children() {
            if c.name() == "arcpath" {
                let x = self
                    .doc
                    .coordinate(&name, c, c.attr("xCoord").unwrap_or("0"))?;
                let y = self
                    .doc
                    .coordinate(&name, c, c.attr("yCoord").unwrap_or("0"))?;
                points.push(Point { x, y });
            } else {
                self.warn(
                    &name,
                    c,
                    format!("unknown element <{}> in an arc ignored", c.name()),
                );
            }
        }
        if points.len() >= 2 {
            points.pop();
            points.remove(0);
        }
        self.data.arcs.push(Arc {
            key: None,
            source: s,
            target: t,
            weight,
            kind,
            points,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FireOptions;

    /// Two components fused through a shared place; a transport arc pair,
    /// an inhibitor arc, a non-trivial interval and an inactive component.
    const TAPN: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<pnml xmlns="http://www.informatik.hu-berlin.de/top/pnml/ptNetb">
  <shared-place initialMarking="1" invariant="&lt; inf" name="lock"/>
  <net active="true" id="left" type="P/T net">
    <place displayName="true" id="P0" initialMarking="2" invariant="&lt; inf" name="P0" nameOffsetX="0" nameOffsetY="0" positionX="100.0" positionY="100.0"/>
    <place id="lock" initialMarking="1" invariant="&lt; inf" name="lock" positionX="100.0" positionY="200.0"/>
    <place id="P1" initialMarking="0" invariant="&lt;= 5" name="P1" positionX="300.0" positionY="100.0"/>
    <transition angle="0" id="T0" infiniteServer="false" name="take" positionX="200.0" positionY="100.0" priority="0" urgent="false"/>
    <arc id="A0" inscription="[0,inf)" source="P0" target="T0" type="transport" transportID="1" weight="1">
      <arcpath arcPointType="false" id="0" xCoord="126" yCoord="111"/>
      <arcpath arcPointType="false" id="1" xCoord="160" yCoord="60"/>
      <arcpath arcPointType="false" id="2" xCoord="209" yCoord="111"/>
    </arc>
    <arc id="A1" inscription="[0,inf)" source="T0" target="P1" type="transport" transportID="1" weight="1"/>
    <arc id="A2" inscription="[2,4]" source="lock" target="T0" type="timed" weight="1"/>
  </net>
  <net active="true" id="right" type="P/T net">
    <place id="lock" initialMarking="1" invariant="&lt; inf" name="lock" positionX="100.0" positionY="400.0"/>
    <place id="P0" initialMarking="0" invariant="&lt; inf" name="P0" positionX="100.0" positionY="300.0"/>
    <transition id="T0" name="T0" positionX="200.0" positionY="300.0" urgent="true"/>
    <arc id="A0" inscription="[0,inf)" source="lock" target="T0" type="tapnInhibitor" weight="2"/>
    <arc id="A1" inscription="1" source="T0" target="P0" type="normal"/>
  </net>
  <net active="false" id="off" type="P/T net">
    <place id="ghost" initialMarking="9" invariant="&lt; inf" name="ghost" positionX="0" positionY="0"/>
  </net>
  <query active="true" name="q" query="EF left.P1 = 1"/>
  <k-bound bound="3"/>
</pnml>"#;

    #[test]
    fn components_are_fused_through_shared_places_with_untimed_semantics() {
        assert!(crate::formats::detect(TAPN.as_bytes()) == Some(crate::formats::Format::Tapn));
        let (model, warnings) = crate::formats::import(TAPN.as_bytes()).unwrap();
        let places: Vec<_> = model
            .places()
            .iter()
            .map(|p| (p.id.as_str(), p.initial, p.x, p.y))
            .collect();
        assert_eq!(
            places,
            vec![
                ("P1", 0, 315, 115),
                ("left.P0", 2, 115, 115),
                ("lock", 1, 115, 215),
                ("right.P0", 0, 115, 315)
            ]
        );
        let ids: Vec<_> = model.transitions().iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, vec!["left.T0", "right.T0"]);
        assert_eq!(model.transitions()[0].label, "take");
        let inhibitor = model
            .arcs()
            .iter()
            .find(|a| a.kind == ArcKind::Inhibitor)
            .unwrap();
        assert_eq!((inhibitor.source.as_str(), inhibitor.weight), ("lock", 2));
        let bent = model.arcs().iter().find(|a| a.source == "left.P0").unwrap();
        assert_eq!(bent.points, vec![Point { x: 160, y: 60 }]);
        // What was not kept says so, in document order.
        let what: Vec<_> = warnings.iter().map(|w| w.element.as_str()).collect();
        assert_eq!(
            what,
            vec!["P1", "A2", "T0", "off", "query", "k-bound"],
            "{warnings:?}"
        );
        // Untimed firing: take moves the token and uses the lock; the lock
        // (1 token, inhibitor at 2) does not block right.T0.
        let opts = FireOptions {
            multiple: 1,
            roles: &[],
        };
        let m = model
            .fire(&model.initial_marking(), "left.T0", &opts)
            .unwrap();
        let map = model.marking_map(&m);
        assert_eq!((map["left.P0"], map["P1"], map["lock"]), (1, 1, 0));
        assert!(
            model.fire(&m, "left.T0", &opts).is_err(),
            "the lock is taken"
        );
        let m = model
            .fire(&model.initial_marking(), "right.T0", &opts)
            .unwrap();
        assert_eq!(model.marking_map(&m)["right.P0"], 1);
    }

    #[test]
    fn errors_say_where() {
        let missing = TAPN.replace(
            r#"source="P0" target="T0" type="transport""#,
            r#"source="P9" target="T0" type="transport""#,
        );
        let err = import_tapn(&missing).unwrap_err();
        assert_eq!(err.code(), "MISSING_NODE");
        assert!(
            err.to_string().starts_with("9:5: A0 refers to 'P9'"),
            "{err}"
        );
        let bad = TAPN.replace(r#"initialMarking="2""#, r#"initialMarking="-2""#);
        assert_eq!(import_tapn(&bad).unwrap_err().code(), "BAD_VALUE");
        let dup = TAPN.replace(
            r#"id="P1" initialMarking="0""#,
            r#"id="T0" initialMarking="0""#,
        );
        assert_eq!(import_tapn(&dup).unwrap_err().code(), "DUPLICATE_ID");
        let kind = TAPN.replace(r#"type="timed""#, r#"type="colored""#);
        assert_eq!(import_tapn(&kind).unwrap_err().code(), "UNSUPPORTED");
        let far = TAPN.replace(r#"positionX="300.0""#, r#"positionX="2147483647""#);
        assert_eq!(import_tapn(&far).unwrap_err().code(), "BAD_VALUE");
        assert_eq!(import_tapn("<pnml/>").unwrap_err().code(), "BAD_VALUE");
    }

    /// Every prefix and many one-byte corruptions of the sample import or
    /// fail with a typed error: never a panic.
    #[test]
    fn cut_or_corrupted_files_never_panic() {
        let bytes = TAPN.as_bytes();
        for cut in 0..bytes.len() {
            if let Err(e) = crate::formats::import(&bytes[..cut]) {
                assert!(!e.code().is_empty());
            }
        }
        let mut seed = 7u64;
        for _ in 0..2000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (seed >> 33) as usize % bytes.len();
            let mut v = bytes.to_vec();
            v[at] = b"<>/\"=:;,{}() x9-\n"[(seed >> 20) as usize % 17];
            let _ = crate::formats::import(&v);
        }
    }
}
