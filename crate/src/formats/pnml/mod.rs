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

/// PIPE writes a node's position as the top-left corner of its box; the
/// centre is this far right of and below it. PIPE's own source:
/// `ConnectableView.updateBounds` sets the view's bounds at
/// `(model.getX(), model.getY())` and `centreOffsetLeft/Top` are half the
/// width / height; a place is 30 wide (`DiscretePlace.DIAMETER`), a
/// transition's box 30 x 30 (`Transition`: `componentWidth =
/// componentHeight = TRANSITION_HEIGHT`, the bar drawn in its middle).
pub const PIPE_CENTRE_OFFSET: i32 = 15;

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

/// Where a PIPE token colour was declared or first used.
struct Colour<'d> {
    name: &'d str,
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
        declared_colours: Vec::new(),
        used_colours: std::cell::RefCell::new(Vec::new()),
        pipe: false,
        subnets: Vec::new(),
        substituted: Vec::new(),
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
    reader.subprocesses()?;
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
    /// Arcs, read once every node is known, with the offset of the
    /// subprocess they belong to.
    arcs: Vec<(El<'d, 'a>, (i32, i32))>,
    /// PIPE `<token id=...>` declarations.
    declared_colours: Vec<Colour<'d>>,
    /// Colours with a non-zero count in a marking or inscription, first use
    /// of each (interior mutability: counts are read through `&self`).
    used_colours: std::cell::RefCell<Vec<Colour<'d>>>,
    /// The file is PIPE's dialect (positions are top-left corners).
    pipe: bool,
    /// WoPeD subprocesses: `<page id=T><net>` found in pages, read after
    /// the net around them.
    subnets: Vec<(El<'d, 'a>, El<'d, 'a>)>,
    /// Transitions replaced by the net of their subprocess page.
    substituted: Vec<&'d str>,
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

    /// Warns about attributes other than `known` (nothing is dropped
    /// silently); a transition's `guard` gets its own message.
    fn attributes(&mut self, el: El<'d, 'a>, owner: &str, known: &[&str]) {
        for (name, value) in el.attrs() {
            if known.contains(&name) {
                continue;
            }
            let message = if name == "guard" && el.name() == "transition" {
                format!(
                    "data guard \"{}\" ignored: petrichain transitions are enabled by tokens alone",
                    xml::shorten(value)
                )
            } else {
                format!(
                    "attribute {name}=\"{}\" of <{}> ignored",
                    xml::shorten(value),
                    el.name()
                )
            };
            let owner = if owner.is_empty() { el.name() } else { owner };
            self.warn(owner, el, message);
        }
    }

    fn net(&mut self, net: El<'d, 'a>) -> Result<(), ImportError> {
        self.attributes(net, net.id(), &["id", "type"]);
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
                    self.pipe = true;
                    self.declared_colours.push(Colour {
                        name: child.id(),
                        offset: child.offset(),
                    });
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
                self.arcs.push((el, (0, 0)));
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
        self.attributes(page, page.id(), &["id"]);
        for child in page.children() {
            match child.name() {
                // WoPeD: the net of a subprocess, on a page named after
                // its transition; read once the net around it is known.
                "net" => self.subnets.push((page, child)),
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
        self.attributes(el, id, &["id"]);
        let mut place = Place {
            keyed: false,
            id: id.to_string(),
            label: String::new(),
            initial: 0,
            capacity: 0,
            x: 0,
            y: 0,
        };
        for child in el.children() {
            match child.name() {
                "name" => {
                    self.pipe = self.pipe || pipe_label(child);
                    place.label = label(child);
                }
                "graphics" => (place.x, place.y) = self.position(id, child)?,
                "initialMarking" => {
                    self.pipe = self.pipe || pipe_label(child);
                    place.initial = self.tokens(id, child)?;
                }
                "capacity" => {
                    self.pipe = self.pipe || pipe_label(child);
                    place.capacity = self.tokens(id, child)?;
                }
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
        self.attributes(el, id, &["id"]);
        let mut t = Transition {
            distinct: Vec::new(),
            signer: Vec::new(),
            params: Vec::new(),
            id: id.to_string(),
            label: String::new(),
            roles: Vec::new(),
            x: 0,
            y: 0,
        };
        for child in el.children() {
            match child.name() {
                "name" => {
                    self.pipe = self.pipe || pipe_label(child);
                    t.label = label(child);
                }
                "graphics" => (t.x, t.y) = self.position(id, child)?,
                "toolspecific" => {
                    let roles = self.toolspecific(id, child);
                    t.roles.extend(roles);
                }
                // PIPE: drawing and stochastic attributes of an untimed net.
                "orientation" | "rate" => self.pipe = true,
                "timed" | "infiniteServer" => {
                    self.pipe = true;
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
                    self.pipe = true;
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
        let id = self.declare(el, kind, Some(target))?;
        self.attributes(el, id, &["id", "ref"]);
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

    fn arc(&mut self, el: El<'d, 'a>, shift: (i32, i32)) -> Result<Option<Arc>, ImportError> {
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
        self.attributes(el, &name, &["id", "source", "target"]);
        let (source, _) = self.resolve(source, &name, el.offset(), None)?;
        let (target, _) = self.resolve(target, &name, el.offset(), None)?;
        let replaced = self.substituted.contains(&source) || self.substituted.contains(&target);
        let mut arc = Arc {
            key: None,
            source: source.to_string(),
            target: target.to_string(),
            weight: 1,
            kind: ArcKind::Normal,
            points: Vec::new(),
        };
        let mut arc_label = None;
        let mut arcpath = Vec::new();
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
                "arcpath" => arcpath.push(self.point(&name, child)?),
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
        if !arcpath.is_empty() {
            // PIPE writes the arc's two ends (on the nodes' borders) as the
            // first and last arcpath points, and drops them when it reads a
            // file (PIPECore `ArcAdapter.setRealArcPoints`); only the
            // points between are bends. A lone point is kept as a bend.
            self.pipe = true;
            if arcpath.len() >= 2 {
                arcpath.pop();
                arcpath.remove(0);
            }
            arc.points.extend(arcpath);
        }
        if shift != (0, 0) {
            for p in &mut arc.points {
                (p.x, p.y) = self.shifted(&name, el, (p.x, p.y), shift)?;
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
        // An arc of a WoPeD subprocess transition is replaced by the
        // subprocess's own arcs.
        Ok((!replaced).then_some(arc))
    }

    /// `(x, y)` moved by `by`, or a `BAD_VALUE` when it leaves the i32 range.
    fn shifted(
        &self,
        element: &str,
        el: El,
        (x, y): (i32, i32),
        (dx, dy): (i32, i32),
    ) -> Result<(i32, i32), ImportError> {
        match (x.checked_add(dx), y.checked_add(dy)) {
            (Some(x), Some(y)) => Ok((x, y)),
            _ => Err(self.doc.bad(
                element,
                el,
                "position out of range once moved to its place in the flattened net".into(),
            )),
        }
    }

    /// WoPeD subprocesses: a transition with `<subprocess>true</subprocess>`
    /// and a `<page id="the transition's id">` holding a `<net>` whose
    /// boundary places repeat the ids of the transition's input and output
    /// places. The transition is replaced by that net (task refinement, as
    /// WoPeD's token game steps into it), the boundary places are the outer
    /// places themselves, and the inner nodes are drawn below the net read
    /// so far, starting at the transition's x. Nested subprocesses likewise.
    fn subprocesses(&mut self) -> Result<(), ImportError> {
        let mut next = 0;
        while let Some(&(page, net)) = self.subnets.get(next) {
            next += 1;
            let id = page.id();
            let refined = match self.declared.get(id) {
                Some(d) if d.kind == Kind::Transition && d.reference.is_none() => {
                    self.data.transitions.iter().position(|t| t.id == id)
                }
                _ => None,
            };
            let (places, transitions, arcs) = (
                self.data.places.len(),
                self.data.transitions.len(),
                self.arcs.len(),
            );
            let bottom = self
                .data
                .places
                .iter()
                .map(|p| p.y)
                .chain(self.data.transitions.iter().map(|t| t.y))
                .max()
                .unwrap_or(0);
            for child in net.children() {
                match child.name() {
                    // A boundary place: the outer place of the same id.
                    "place"
                        if self
                            .declared
                            .get(child.id())
                            .is_some_and(|d| d.kind == Kind::Place && d.reference.is_none()) => {}
                    "name" | "graphics" => {}
                    _ => self.node_or_page(child, id)?,
                }
            }
            let nodes = self.data.places[places..].iter().map(|p| (p.x, p.y)).chain(
                self.data.transitions[transitions..]
                    .iter()
                    .map(|t| (t.x, t.y)),
            );
            let (min_x, min_y) =
                nodes.fold((i32::MAX, i32::MAX), |(a, b), (x, y)| (a.min(x), b.min(y)));
            let origin_x = refined.map_or(0, |t| self.data.transitions[t].x);
            let shift = if min_x == i32::MAX {
                (0, 0)
            } else {
                let gap = i64::from(bottom) + 100 - i64::from(min_y);
                let dx = i64::from(origin_x) - i64::from(min_x);
                match (i32::try_from(dx), i32::try_from(gap)) {
                    (Ok(dx), Ok(dy)) => (dx, dy),
                    _ => {
                        return Err(self.doc.bad(
                            id,
                            page,
                            "subprocess positions out of range".into(),
                        ))
                    }
                }
            };
            for i in places..self.data.places.len() {
                let p = &self.data.places[i];
                let moved = self.shifted(&p.id, page, (p.x, p.y), shift)?;
                (self.data.places[i].x, self.data.places[i].y) = moved;
            }
            for i in transitions..self.data.transitions.len() {
                let t = &self.data.transitions[i];
                let moved = self.shifted(&t.id, page, (t.x, t.y), shift)?;
                (self.data.transitions[i].x, self.data.transitions[i].y) = moved;
            }
            for arc in &mut self.arcs[arcs..] {
                arc.1 = shift;
            }
            let added = (
                self.data.places.len() - places,
                self.data.transitions.len() - transitions,
            );
            if refined.is_some() {
                let id: &'d str = page.id();
                self.substituted.push(id);
                self.warn(
                    id,
                    page,
                    format!(
                        "WoPeD subprocess: transition replaced by the net of its page (flattened: {} place(s), {} transition(s) added)",
                        added.0, added.1
                    ),
                );
            } else {
                self.warn(
                    id,
                    net,
                    "a <net> inside a page that refines no transition: its nodes are added to the net".into(),
                );
            }
        }
        Ok(())
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
            // Read by `subprocesses` (the page named after the transition).
            "WoPeD" if el.child("subprocess").is_some() => {
                if el.children().any(|c| c.name() != "subprocess") {
                    self.warn(
                        owner,
                        el,
                        "WoPeD tool data other than the subprocess flag ignored".into(),
                    );
                }
            }
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

    fn tokens(&self, element: &str, el: El<'d, 'a>) -> Result<u64, ImportError> {
        let v = value(el);
        let t = v.trim();
        // PIPE: "Default,3" (colour, count) pairs, one per declared colour.
        if t.contains(',') {
            let parts: Vec<&str> = t.split(',').collect();
            if parts.len() % 2 != 0 {
                return Err(self.doc.bad(
                    element,
                    el,
                    format!(
                        "\"{}\" is not a list of colour,count pairs",
                        xml::shorten(t)
                    ),
                ));
            }
            let mut found: Option<(&str, u64)> = None;
            for pair in parts.chunks(2) {
                let n = self.doc.count(element, el, pair[1])?;
                if n == 0 {
                    continue;
                }
                if found.is_some() {
                    return Err(self.doc.unsupported(
                        element,
                        el,
                        format!("coloured tokens in \"{}\"", xml::shorten(t)),
                    ));
                }
                found = Some((pair[0].trim(), n));
            }
            let Some((colour, n)) = found else {
                return Ok(0);
            };
            self.used_colour(element, el, colour)?;
            return Ok(n);
        }
        if t.is_empty() {
            return Ok(0);
        }
        self.doc.count(element, el, t)
    }

    /// Records a colour with a non-zero count; a second colour in use makes
    /// the net coloured, which petrichain refuses.
    fn used_colour(
        &self,
        element: &str,
        el: El<'d, 'a>,
        colour: &'d str,
    ) -> Result<(), ImportError> {
        let mut used = self.used_colours.borrow_mut();
        if let Some(first) = used.first() {
            if first.name != colour {
                return Err(self.doc.unsupported(
                    element,
                    el,
                    format!(
                        "coloured tokens: colour \"{}\" here and \"{}\" at {} are both used",
                        xml::shorten(colour),
                        xml::shorten(first.name),
                        self.doc.position(first.offset)
                    ),
                ));
            }
            return Ok(());
        }
        used.push(Colour {
            name: colour,
            offset: el.offset(),
        });
        Ok(())
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
        for (el, shift) in arcs {
            if let Some(arc) = self.arc(el, shift)? {
                self.data.arcs.push(arc);
            }
        }
        let substituted = std::mem::take(&mut self.substituted);
        self.data
            .transitions
            .retain(|t| !substituted.contains(&t.id.as_str()));
        if self.pipe {
            self.pipe_positions()?;
        }
        if self.declared_colours.len() > 1 {
            let used = self.used_colours.borrow();
            let names: Vec<&str> = self.declared_colours.iter().map(|c| c.name).collect();
            let first = &self.declared_colours[1];
            let message = match used.first() {
                Some(c) => format!(
                    "{} token colours declared ({}), only \"{}\" is used: read as a P/T net",
                    names.len(),
                    xml::shorten(&names.join(", ")),
                    xml::shorten(c.name)
                ),
                None => format!(
                    "{} token colours declared ({}), none is used: read as a P/T net",
                    names.len(),
                    xml::shorten(&names.join(", "))
                ),
            };
            let warning = Warning {
                element: "token".into(),
                position: Some(self.doc.position(first.offset)),
                message,
            };
            drop(used);
            self.warnings.push(warning);
        }
        Ok((self.data, self.warnings))
    }

    /// PIPE positions are top-left corners: every node moves to its centre.
    fn pipe_positions(&mut self) -> Result<(), ImportError> {
        let d = PIPE_CENTRE_OFFSET;
        let overflow = |id: &str| ImportError::BadValue {
            element: id.to_string(),
            position: None,
            message: "PIPE position out of range once moved to the node's centre".into(),
        };
        for p in &mut self.data.places {
            p.x = p.x.checked_add(d).ok_or_else(|| overflow(&p.id))?;
            p.y = p.y.checked_add(d).ok_or_else(|| overflow(&p.id))?;
        }
        for t in &mut self.data.transitions {
            t.x = t.x.checked_add(d).ok_or_else(|| overflow(&t.id))?;
            t.y = t.y.checked_add(d).ok_or_else(|| overflow(&t.id))?;
        }
        Ok(())
    }
}

/// A label in PIPE's spelling (`<value>`, not PNML 2009's `<text>`).
fn pipe_label(el: El) -> bool {
    el.child("value").is_some() && el.child("text").is_none()
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
