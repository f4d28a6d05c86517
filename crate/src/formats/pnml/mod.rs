//! PNML: the 2009 standard (P/T nets, pages nested to any depth, reference
//! places and transitions) and the dialects real tools write — PIPE
//! (`<value>Default,3</value>`, `capacity`, `<type value="inhibitor"/>`,
//! `arcpath`), ProM / pm4py (`arctype`, `finalmarkings`, invisible
//! transitions) and WoPeD (pre-2009 net type, roles in `toolspecific`).
//!
//! All dialects share one reader: each element's children are matched by
//! name, so the 2009 spelling (`<text>`) and the PIPE spelling (`<value>`)
//! are both understood wherever either can appear. Anything else becomes a
//! [`Warning`] with the element id and its line:column. docs/formats.md lists
//! what is read, what is ignored on purpose and how [`export_pnml`] encodes
//! what PNML 2009 cannot say.

mod export;

pub use export::{export_pnml, EXTENDED_NET_TYPE, PTNET_TYPE};

use super::xml::{self, Doc, El, IdMap};
use super::{ImportError, ImportLimits, Imported, Warning};
use crate::model::{Arc, ArcKind, FinalMarking, Model, ModelData, Place, Point, Transition};

/// Reads a PNML file (any dialect) with default limits. UTF-8 and declared
/// ISO-8859-1 input are accepted.
///
/// ```
/// use petrichain::formats::pnml::import_pnml;
/// let (model, _) = import_pnml(r#"<pnml xmlns="http://www.pnml.org/version-2009/grammar/pnml">
///   <net id="n" type="http://www.pnml.org/version-2009/grammar/ptnet"><page id="pg">
///     <place id="p"><initialMarking><text>1</text></initialMarking></place>
///     <transition id="t"/>
///     <arc id="a" source="p" target="t"><inscription><text>1</text></inscription></arc>
///   </page></net></pnml>"#).unwrap();
/// assert_eq!(model.arcs().len(), 1);
/// ```
pub fn import_pnml(input: impl AsRef<[u8]>) -> Result<Imported, ImportError> {
    import_pnml_with(input, &ImportLimits::default())
}

/// Like [`import_pnml`] with explicit limits.
pub fn import_pnml_with(
    input: impl AsRef<[u8]>,
    limits: &ImportLimits,
) -> Result<Imported, ImportError> {
    xml::read_document(input.as_ref(), limits, read)
}

/// Net types read as plain P/T nets (without a warning).
const KNOWN_TYPES: &[&str] = &[
    PTNET_TYPE,
    EXTENDED_NET_TYPE,
    "http://www.pnml.org/version-2009/grammar/pnmlcoremodel",
    "http://www.informatik.hu-berlin.de/top/pntd/ptNetb",
    "P/T net",
];

/// Net types whose nets petrichain cannot represent.
const HIGH_LEVEL: &[&str] = &["symmetricnet", "highlevelnet", "pt-hlpng", "hlpn"];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Place,
    Transition,
}

/// A node id as declared: a real node, or a reference to another id.
struct Declared<'d> {
    kind: Kind,
    /// `Some(id)` for referencePlace / referenceTransition.
    reference: Option<&'d str>,
    offset: usize,
}

/// Reads a parsed document whose root should be `<pnml>`.
pub(crate) fn read(doc: &Doc) -> Result<Imported, ImportError> {
    let root = doc.root();
    if root.name() != "pnml" {
        return Err(ImportError::WrongRoot {
            position: doc.position(root.offset()),
            found: root.name().to_string(),
            expected: "<pnml>".into(),
        });
    }
    let mut reader = Reader {
        doc,
        warnings: Vec::new(),
        data: ModelData::default(),
        declared: IdMap::with_capacity_and_hasher(doc.element_count() / 4, Default::default()),
        arcs: Vec::new(),
        colours: 0,
    };
    let mut net = None;
    for child in root.children() {
        match child.name() {
            "net" if net.is_none() => net = Some(child),
            "net" => reader.warn(
                child.id(),
                child,
                "only the first <net> of a file is imported; this one is ignored".into(),
            ),
            _ => reader.unknown(child, "pnml"),
        }
    }
    let Some(net) = net else {
        return Err(doc.bad("pnml", root, "the file contains no <net>".into()));
    };
    reader.net(net)?;
    let (data, mut warnings) = reader.finish()?;
    // Arcs are read last; report in document order.
    warnings.sort_by_key(|w| w.position.map(|p| (p.line, p.column)));
    Ok((Model::new(data)?, warnings))
}

struct Reader<'d, 'a> {
    doc: &'d Doc<'a>,
    warnings: Vec<Warning>,
    data: ModelData,
    declared: IdMap<&'d str, Declared<'d>>,
    arcs: Vec<El<'d, 'a>>,
    colours: usize,
}

impl<'d, 'a> Reader<'d, 'a> {
    fn warn(&mut self, element: &str, el: El, message: String) {
        self.warnings.push(self.doc.warning(element, el, message));
    }

    fn unknown(&mut self, el: El, owner: &str) {
        let owner = if owner.is_empty() { "?" } else { owner };
        self.warn(
            owner,
            el,
            format!("unknown element <{}> in {owner} ignored", el.name()),
        );
    }

    fn net(&mut self, net: El<'d, 'a>) -> Result<(), ImportError> {
        let net_type = net.attr("type").unwrap_or("");
        let lower = net_type.to_ascii_lowercase();
        if HIGH_LEVEL.iter().any(|t| lower.contains(t)) {
            return Err(self.doc.unsupported(
                net.id(),
                net,
                format!("high-level / coloured nets (net type {net_type})"),
            ));
        }
        if !KNOWN_TYPES.contains(&net_type) {
            self.warn(
                net.id(),
                net,
                format!(
                    "unknown net type \"{}\", read as a P/T net",
                    xml::shorten(net_type)
                ),
            );
        }
        let mut final_markings = None;
        for child in net.children() {
            match child.name() {
                "name" => self.data.name = label(child),
                "finalmarkings" => final_markings = Some(child),
                "token" => {
                    self.colours += 1;
                    if self.colours > 1 {
                        return Err(self.doc.unsupported(
                            child.id(),
                            child,
                            "coloured tokens (more than one <token> colour)".into(),
                        ));
                    }
                }
                "declaration" => {
                    return Err(self.doc.unsupported(
                        net.id(),
                        child,
                        "high-level declarations (sorts, variables)".into(),
                    ))
                }
                _ => self.node_or_page(child, net.id())?,
            }
        }
        if let Some(fm) = final_markings {
            self.final_markings(fm)?;
        }
        Ok(())
    }

    /// Elements allowed both in a net and in a page.
    fn node_or_page(&mut self, el: El<'d, 'a>, owner: &str) -> Result<(), ImportError> {
        match el.name() {
            "page" => self.page(el),
            "place" => self.place(el),
            "transition" => self.transition(el),
            "arc" => {
                self.arcs.push(el);
                Ok(())
            }
            "referencePlace" => self.reference(el, Kind::Place),
            "referenceTransition" => self.reference(el, Kind::Transition),
            "toolspecific" => {
                self.toolspecific(owner, el);
                Ok(())
            }
            _ => {
                self.unknown(el, owner);
                Ok(())
            }
        }
    }

    fn page(&mut self, page: El<'d, 'a>) -> Result<(), ImportError> {
        for child in page.children() {
            match child.name() {
                "name" => {
                    if !label(child).is_empty() {
                        self.warn(
                            page.id(),
                            child,
                            "page name not kept: pages are flattened into one net".into(),
                        );
                    }
                }
                "graphics" => {}
                _ => self.node_or_page(child, page.id())?,
            }
        }
        Ok(())
    }

    fn declare(
        &mut self,
        el: El<'d, 'a>,
        kind: Kind,
        reference: Option<&'d str>,
    ) -> Result<&'d str, ImportError> {
        let id: &'d str = el.attr("id").unwrap_or("");
        if id.is_empty() {
            return Err(self.doc.bad(
                el.name(),
                el,
                format!("<{}> without an id attribute", el.name()),
            ));
        }
        if let Some(first) = self.declared.get(id) {
            return Err(ImportError::DuplicateId {
                id: id.to_string(),
                position: self.doc.position(el.offset()),
                first: self.doc.position(first.offset),
            });
        }
        self.declared.insert(
            id,
            Declared {
                kind,
                reference,
                offset: el.offset(),
            },
        );
        Ok(id)
    }

    fn place(&mut self, el: El<'d, 'a>) -> Result<(), ImportError> {
        let id = self.declare(el, Kind::Place, None)?;
        let mut place = Place {
            id: id.to_string(),
            label: String::new(),
            initial: 0,
            capacity: 0,
            x: 0,
            y: 0,
        };
        for child in el.children() {
            match child.name() {
                "name" => place.label = label(child),
                "graphics" => (place.x, place.y) = self.position(id, child)?,
                "initialMarking" => place.initial = self.tokens(id, child)?,
                "capacity" => place.capacity = self.tokens(id, child)?,
                "toolspecific" => {
                    let roles = self.toolspecific(id, child);
                    if !roles.is_empty() {
                        self.warn(id, child, "roles on a place ignored".into());
                    }
                }
                "hlinitialMarking" | "type" => {
                    return Err(self.doc.unsupported(
                        id,
                        child,
                        format!("high-level <{}> (coloured tokens)", child.name()),
                    ))
                }
                _ => self.unknown(child, id),
            }
        }
        self.data.places.push(place);
        Ok(())
    }

    fn transition(&mut self, el: El<'d, 'a>) -> Result<(), ImportError> {
        let id = self.declare(el, Kind::Transition, None)?;
        let mut t = Transition {
            id: id.to_string(),
            label: String::new(),
            roles: Vec::new(),
            x: 0,
            y: 0,
        };
        for child in el.children() {
            match child.name() {
                "name" => t.label = label(child),
                "graphics" => (t.x, t.y) = self.position(id, child)?,
                "toolspecific" => {
                    let roles = self.toolspecific(id, child);
                    t.roles.extend(roles);
                }
                // PIPE: drawing and stochastic attributes of an untimed net.
                "orientation" | "rate" => {}
                "timed" | "infiniteServer" => {
                    if value(child).trim() == "true" {
                        self.warn(
                            id,
                            child,
                            format!(
                                "<{}> true ignored: petrichain nets are untimed",
                                child.name()
                            ),
                        );
                    }
                }
                "priority" => {
                    if !matches!(value(child).trim(), "" | "1") {
                        self.warn(
                            id,
                            child,
                            "transition priority ignored: every enabled transition may fire".into(),
                        );
                    }
                }
                "condition" => {
                    return Err(self.doc.unsupported(
                        id,
                        child,
                        "high-level guard <condition>".into(),
                    ))
                }
                _ => self.unknown(child, id),
            }
        }
        self.data.transitions.push(t);
        Ok(())
    }

    fn reference(&mut self, el: El<'d, 'a>, kind: Kind) -> Result<(), ImportError> {
        let target: &'d str = el.attr("ref").unwrap_or("");
        if target.is_empty() {
            return Err(self.doc.bad(
                el.id(),
                el,
                format!("<{}> without a ref attribute", el.name()),
            ));
        }
        self.declare(el, kind, Some(target))?;
        Ok(())
    }

    /// Follows reference chains to the node an id stands for.
    fn resolve(
        &self,
        id: &str,
        referrer: &str,
        at: usize,
        want: Option<Kind>,
    ) -> Result<(&'d str, Kind), ImportError> {
        let bad = |element: &str, message: String| ImportError::BadValue {
            element: element.to_string(),
            position: Some(self.doc.position(at)),
            message,
        };
        let expected = match want {
            Some(Kind::Place) => "place",
            Some(Kind::Transition) => "transition",
            None => "place or transition",
        };
        let missing = |node: &str| ImportError::MissingNode {
            element: referrer.to_string(),
            position: self.doc.position(at),
            node: node.to_string(),
            expected: expected.to_string(),
        };
        let (mut current, first) = match self.declared.get_key_value(id) {
            Some((k, d)) => (*k, d),
            None => return Err(missing(id)),
        };
        let mut decl = first;
        let mut steps = 0;
        while let Some(next) = decl.reference {
            steps += 1;
            if steps > self.declared.len() {
                return Err(bad(
                    referrer,
                    format!("reference cycle through '{}'", xml::shorten(id)),
                ));
            }
            let Some((k, d)) = self.declared.get_key_value(next) else {
                return Err(missing(next));
            };
            if d.kind != decl.kind {
                return Err(bad(
                    current,
                    format!(
                        "a reference {} may only refer to a {0}, but '{}' is not one",
                        kind_name(decl.kind),
                        xml::shorten(next)
                    ),
                ));
            }
            (current, decl) = (*k, d);
        }
        if want.is_some_and(|w| w != decl.kind) {
            return Err(missing(id));
        }
        Ok((current, decl.kind))
    }

    fn arc(&mut self, el: El<'d, 'a>) -> Result<Arc, ImportError> {
        let source = el.attr("source").unwrap_or("");
        let target = el.attr("target").unwrap_or("");
        let name = match el.attr("id") {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => format!("{source}->{target}"),
        };
        for (end, what) in [(source, "source"), (target, "target")] {
            if end.is_empty() {
                return Err(self
                    .doc
                    .bad(&name, el, format!("arc without a {what} attribute")));
            }
        }
        let (source, _) = self.resolve(source, &name, el.offset(), None)?;
        let (target, _) = self.resolve(target, &name, el.offset(), None)?;
        let mut arc = Arc {
            source: source.to_string(),
            target: target.to_string(),
            weight: 1,
            kind: ArcKind::Normal,
            points: Vec::new(),
        };
        let mut arc_label = None;
        for child in el.children() {
            match child.name() {
                "inscription" => {
                    if !value(child).trim().is_empty() {
                        arc.weight = self.tokens(&name, child)?;
                    }
                }
                "graphics" => {
                    for p in child.children().filter(|p| p.name() == "position") {
                        arc.points.push(self.point(&name, p)?);
                    }
                }
                "arcpath" => arc.points.push(self.point(&name, child)?),
                "type" => {
                    arc.kind = self.arc_kind(&name, child, child.attr("value").unwrap_or(""))?
                }
                "arctype" => arc.kind = self.arc_kind(&name, child, value(child))?,
                "name" => arc_label = Some(child),
                "tagged" => {
                    if value(child).trim() == "true" {
                        self.warn(&name, child, "tagged arc: the tag is ignored".into());
                    }
                }
                "toolspecific" => {
                    self.toolspecific(&name, child);
                }
                "hlinscription" => {
                    return Err(self.doc.unsupported(
                        &name,
                        child,
                        "high-level <hlinscription>".into(),
                    ))
                }
                _ => self.unknown(child, &name),
            }
        }
        if let Some(l) = arc_label {
            let text = label(l);
            // ProM writes the weight as the arc's name; anything else is a label.
            if !text.trim().is_empty() && text.trim() != arc.weight.to_string() {
                self.warn(
                    &name,
                    l,
                    format!("arc label \"{}\" not kept", xml::shorten(&text)),
                );
            }
        }
        Ok(arc)
    }

    fn arc_kind(&self, arc: &str, el: El, value: &str) -> Result<ArcKind, ImportError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "normal" | "regular" => Ok(ArcKind::Normal),
            "inhibitor" | "inhibitory" => Ok(ArcKind::Inhibitor),
            "read" | "test" => Ok(ArcKind::Read),
            "reset" => Ok(ArcKind::Reset),
            other => Err(self.doc.unsupported(
                arc,
                el,
                format!(
                    "arc type \"{}\" (petrichain has normal, inhibitor, read and reset arcs)",
                    xml::shorten(other)
                ),
            )),
        }
    }

    /// `<toolspecific>`: petrichain's own (roles) and WoPeD roles are read;
    /// ProM's invisible-transition marker is reported; the rest is ignored
    /// with a warning. Returns the roles found.
    fn toolspecific(&mut self, owner: &str, el: El) -> Vec<String> {
        let tool = el.attr("tool").unwrap_or("");
        let mut roles = Vec::new();
        match tool {
            "petrichain" => {
                for c in el.children() {
                    match c.name() {
                        "role" => roles.push(c.text().to_string()),
                        _ => self.unknown(c, owner),
                    }
                }
            }
            "ProM" if el.attr("activity") == Some("$invisible$") => self.warn(
                owner,
                el,
                "invisible (silent) ProM transition: imported as an ordinary transition".into(),
            ),
            "WoPeD" if el.child("transitionResource").is_some() => {
                for c in el.children().filter(|c| c.name() == "transitionResource") {
                    if let Some(role) = c.attr("roleName").filter(|r| !r.is_empty()) {
                        roles.push(role.to_string());
                    }
                }
                self.warn(
                    owner,
                    el,
                    "WoPeD tool data other than the transition's role ignored".into(),
                );
            }
            _ => self.warn(
                owner,
                el,
                format!("tool-specific data of \"{}\" ignored", xml::shorten(tool)),
            ),
        }
        roles
    }

    fn final_markings(&mut self, el: El<'d, 'a>) -> Result<(), ImportError> {
        for marking in el.children() {
            if marking.name() != "marking" {
                self.unknown(marking, "finalmarkings");
                continue;
            }
            let mut fm = FinalMarking::new();
            for p in marking.children() {
                if p.name() != "place" {
                    self.unknown(p, "finalmarkings");
                    continue;
                }
                let idref = p.attr("idref").unwrap_or("");
                let (place, _) =
                    self.resolve(idref, "finalmarkings", p.offset(), Some(Kind::Place))?;
                let tokens = self.doc.count(place, p, value(p))?;
                fm.insert(place.to_string(), tokens);
            }
            self.data.final_markings.push(fm);
        }
        Ok(())
    }

    fn tokens(&self, element: &str, el: El) -> Result<u64, ImportError> {
        let v = value(el);
        let t = v.trim();
        // PIPE: "Default,3" (colour, count) pairs.
        if t.contains(',') {
            let parts: Vec<&str> = t.split(',').collect();
            if parts.len() != 2 {
                return Err(self.doc.unsupported(
                    element,
                    el,
                    format!("coloured tokens in \"{}\"", xml::shorten(t)),
                ));
            }
            return self.doc.count(element, el, parts[1]);
        }
        if t.is_empty() {
            return Ok(0);
        }
        self.doc.count(element, el, t)
    }

    fn position(&self, element: &str, graphics: El) -> Result<(i32, i32), ImportError> {
        match graphics.child("position") {
            Some(p) => {
                let pt = self.point(element, p)?;
                Ok((pt.x, pt.y))
            }
            None => Ok((0, 0)),
        }
    }

    fn point(&self, element: &str, el: El) -> Result<Point, ImportError> {
        let x = self
            .doc
            .coordinate(element, el, el.attr("x").unwrap_or("0"))?;
        let y = self
            .doc
            .coordinate(element, el, el.attr("y").unwrap_or("0"))?;
        Ok(Point { x, y })
    }

    fn finish(mut self) -> Result<(ModelData, Vec<Warning>), ImportError> {
        // Every reference must lead somewhere, used or not.
        let mut refs: Vec<(&str, usize)> = self
            .declared
            .iter()
            .filter(|(_, d)| d.reference.is_some())
            .map(|(id, d)| (*id, d.offset))
            .collect();
        refs.sort_by_key(|(_, offset)| *offset);
        for (id, offset) in refs {
            self.resolve(id, id, offset, None)?;
        }
        let arcs = std::mem::take(&mut self.arcs);
        for el in arcs {
            let arc = self.arc(el)?;
            self.data.arcs.push(arc);
        }
        Ok((self.data, self.warnings))
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Place => "place",
        Kind::Transition => "transition",
    }
}

/// The value of a label: `<text>` (PNML 2009, ProM, WoPeD) or `<value>`
/// (PIPE), or the element's own text.
fn value<'d>(el: El<'d, '_>) -> &'d str {
    el.child_text("text")
        .or_else(|| el.child_text("value"))
        .unwrap_or(el.text())
}

/// A name: like [`value`], kept exactly as written.
fn label(el: El) -> String {
    value(el).to_string()
}

#[cfg(test)]
mod tests;
