//! PNEditor `.pflow` / `.pflowx` XML (also written by ptflow and bitwrap).
//!
//! `document > subnet` holds places, transitions, arcs, reference places and
//! nested subnets; `document > roles` lists roles with the transitions each
//! may fire. Nested subnets are flattened: their nodes' positions are offset
//! by the subnet's own position (summed down the nesting), and a
//! `referencePlace` stands for the place its `connectedPlaceId` names (chains
//! of references are followed). Arcs are `regular` (also when `type` is
//! missing), `inhibitor` or `reset`, weighted by `multiplicity`. A place may
//! carry a `capacity` (0 = unbounded). A transition listed in several roles
//! may be fired by any of them.

use super::xml::{self, Doc, El, IdMap};
use super::{ImportError, ImportLimits, Imported, Warning};
use crate::model::{Arc, ArcKind, Model, ModelData, Place, Point, Transition};

/// Reads a PNEditor `.pflow` / `.pflowx` document with default limits.
///
/// ```
/// use petrichain::formats::pflow_xml::import_pflow;
/// let (model, _) = import_pflow(r#"<document><subnet>
///   <place><id>1</id><x>0</x><y>0</y><label>stock</label><tokens>2</tokens><isStatic>false</isStatic></place>
///   <transition><id>2</id><x>50</x><y>0</y><label>sell</label></transition>
///   <arc><sourceId>1</sourceId><destinationId>2</destinationId><multiplicity>1</multiplicity></arc>
/// </subnet><roles><role><id>1</id><name>clerk</name><transitionId>2</transitionId></role></roles></document>"#).unwrap();
/// assert_eq!(model.transitions()[0].roles, vec!["clerk".to_string()]);
/// ```
pub fn import_pflow(input: impl AsRef<[u8]>) -> Result<Imported, ImportError> {
    import_pflow_with(input, &ImportLimits::default())
}

/// Like [`import_pflow`] with explicit limits.
pub fn import_pflow_with(
    input: impl AsRef<[u8]>,
    limits: &ImportLimits,
) -> Result<Imported, ImportError> {
    xml::read_document(input.as_ref(), limits, read)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Place,
    Transition,
    /// A reference place, standing for another place id.
    Reference,
    Subnet,
}

struct Declared<'d> {
    kind: Kind,
    /// connectedPlaceId of a reference place.
    connected: &'d str,
    offset: usize,
    /// Index into places / transitions.
    index: usize,
    /// Position of a reference place (its subnet's offset included).
    xy: (i32, i32),
}

/// Reads a parsed document whose root should be `<document>`.
pub(crate) fn read(doc: &Doc) -> Result<Imported, ImportError> {
    let root = doc.root();
    if root.name() != "document" {
        return Err(ImportError::WrongRoot {
            position: doc.position(root.offset()),
            found: root.name().to_string(),
            expected: "<document> (PNEditor .pflow)".into(),
        });
    }
    let mut r = Reader {
        doc,
        warnings: Vec::new(),
        data: ModelData::default(),
        declared: IdMap::with_capacity_and_hasher(doc.element_count() / 4, Default::default()),
        arcs: Vec::new(),
    };
    let mut subnet = None;
    let mut roles = None;
    for child in root.children() {
        match child.name() {
            "subnet" if subnet.is_none() => subnet = Some(child),
            "roles" if roles.is_none() => roles = Some(child),
            "label" => r.data.name = child.text().to_string(),
            // The document's own id and position have no meaning.
            "id" | "x" | "y" => {}
            _ => r.unknown(child, "document"),
        }
    }
    let Some(subnet) = subnet else {
        return Err(doc.bad("document", root, "the document has no <subnet>".into()));
    };
    r.subnet(subnet, (0, 0), true)?;
    r.references()?;
    for (el, offset) in std::mem::take(&mut r.arcs) {
        let arc = r.arc(el, offset)?;
        r.data.arcs.push(arc);
    }
    if let Some(roles) = roles {
        r.roles(roles)?;
    }
    // Arcs are read after the nodes; report in document order.
    r.warnings
        .sort_by_key(|w| w.position.map(|p| (p.line, p.column)));
    Ok((Model::new(r.data)?, r.warnings))
}

struct Reader<'d, 'a> {
    doc: &'d Doc<'a>,
    warnings: Vec<Warning>,
    data: ModelData,
    declared: IdMap<&'d str, Declared<'d>>,
    /// Arcs with the position offset of their subnet, read once every node is known.
    arcs: Vec<(El<'d, 'a>, (i32, i32))>,
}

impl<'d, 'a> Reader<'d, 'a> {
    fn warn(&mut self, element: &str, el: El, message: String) {
        self.warnings.push(self.doc.warning(element, el, message));
    }

    fn unknown(&mut self, el: El, owner: &str) {
        self.warn(
            owner,
            el,
            format!("unknown element <{}> in {owner} ignored", el.name()),
        );
    }

    fn subnet(
        &mut self,
        el: El<'d, 'a>,
        parent: (i32, i32),
        root: bool,
    ) -> Result<(), ImportError> {
        let id = el.child_text("id").unwrap_or("").trim();
        let offset = if root {
            parent
        } else {
            if !id.is_empty() {
                self.declare(id, el, Kind::Subnet, "", 0)?;
            }
            let (x, y) = self.xy(id, el)?;
            self.shift(id, el, parent, x, y)?
        };
        for child in el.children() {
            match child.name() {
                "place" => self.place(child, offset)?,
                "transition" => self.transition(child, offset)?,
                "arc" => self.arcs.push((child, offset)),
                "referencePlace" => self.reference(child, offset)?,
                "subnet" => self.subnet(child, offset, false)?,
                // A drawn link between a place and a subnet: no behaviour.
                "referenceArc" => {}
                "id" | "x" | "y" => {}
                "label" => {
                    if !root && !child.text().trim().is_empty() {
                        self.warn(
                            id,
                            child,
                            "subnet label not kept: subnets are flattened into one net".into(),
                        );
                    }
                }
                _ => self.unknown(child, if id.is_empty() { "subnet" } else { id }),
            }
        }
        Ok(())
    }

    fn declare(
        &mut self,
        id: &'d str,
        el: El,
        kind: Kind,
        connected: &'d str,
        index: usize,
    ) -> Result<(), ImportError> {
        if id.is_empty() {
            return Err(self
                .doc
                .bad(el.name(), el, format!("<{}> without an <id>", el.name())));
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
                connected,
                offset: el.offset(),
                index,
                xy: (0, 0),
            },
        );
        Ok(())
    }

    fn id(&self, el: El<'d, 'a>) -> &'d str {
        el.child_text("id").unwrap_or("").trim()
    }

    fn xy(&self, id: &str, el: El) -> Result<(i32, i32), ImportError> {
        let mut xy = [0, 0];
        for (slot, name) in xy.iter_mut().zip(["x", "y"]) {
            if let Some(c) = el.child(name) {
                if !c.text().trim().is_empty() {
                    *slot = self.doc.coordinate(id, c, c.text())?;
                }
            }
        }
        Ok((xy[0], xy[1]))
    }

    fn shift(
        &self,
        id: &str,
        el: El,
        (ox, oy): (i32, i32),
        x: i32,
        y: i32,
    ) -> Result<(i32, i32), ImportError> {
        match (ox.checked_add(x), oy.checked_add(y)) {
            (Some(x), Some(y)) => Ok((x, y)),
            _ => Err(self.doc.bad(
                id,
                el,
                "position out of range once offset by its subnets".into(),
            )),
        }
    }

    fn place(&mut self, el: El<'d, 'a>, offset: (i32, i32)) -> Result<(), ImportError> {
        let id = self.id(el);
        self.declare(id, el, Kind::Place, "", self.data.places.len())?;
        let (x, y) = self.xy(id, el)?;
        let (x, y) = self.shift(id, el, offset, x, y)?;
        let mut place = Place {
            keyed: false,
            id: id.to_string(),
            label: String::new(),
            initial: 0,
            capacity: 0,
            x,
            y,
        };
        for child in el.children() {
            match child.name() {
                "id" | "x" | "y" => {}
                "label" => place.label = child.text().to_string(),
                "tokens" => place.initial = self.count(id, child)?,
                "capacity" => place.capacity = self.count(id, child)?,
                "isStatic" => {
                    if child.text().trim() == "true" {
                        self.warn(
                            id,
                            child,
                            "static place (shared by all cases in PNEditor) imported as an ordinary place"
                                .into(),
                        );
                    }
                }
                _ => self.unknown(child, id),
            }
        }
        self.data.places.push(place);
        Ok(())
    }

    fn transition(&mut self, el: El<'d, 'a>, offset: (i32, i32)) -> Result<(), ImportError> {
        let id = self.id(el);
        self.declare(id, el, Kind::Transition, "", self.data.transitions.len())?;
        let (x, y) = self.xy(id, el)?;
        let (x, y) = self.shift(id, el, offset, x, y)?;
        let mut t = Transition {
            distinct: Vec::new(),
            signer: Vec::new(),
            params: Vec::new(),
            id: id.to_string(),
            label: String::new(),
            roles: Vec::new(),
            x,
            y,
        };
        for child in el.children() {
            match child.name() {
                "id" | "x" | "y" => {}
                "label" => t.label = child.text().to_string(),
                _ => self.unknown(child, id),
            }
        }
        self.data.transitions.push(t);
        Ok(())
    }

    fn reference(&mut self, el: El<'d, 'a>, offset: (i32, i32)) -> Result<(), ImportError> {
        let id = self.id(el);
        let connected = el.child_text("connectedPlaceId").unwrap_or("").trim();
        if connected.is_empty() {
            return Err(self
                .doc
                .bad(id, el, "referencePlace without a <connectedPlaceId>".into()));
        }
        for child in el.children() {
            if !matches!(child.name(), "id" | "x" | "y" | "connectedPlaceId") {
                self.unknown(child, id);
            }
        }
        self.declare(id, el, Kind::Reference, connected, 0)?;
        let (x, y) = self.xy(id, el)?;
        let xy = self.shift(id, el, offset, x, y)?;
        if let Some(d) = self.declared.get_mut(id) {
            d.xy = xy;
        }
        Ok(())
    }

    /// Follows every reference place to the place it stands for, blaming
    /// the reference itself when it leads to a transition or a subnet, or
    /// round in a cycle. A reference whose place is not in the file (a
    /// subnet file, `.pflowx`, whose references point into the net it is
    /// pasted into) stands for a place of that id, created here once with
    /// the first such reference's position, and a warning: PNEditor itself
    /// opens such files.
    fn references(&mut self) -> Result<(), ImportError> {
        let mut refs: Vec<(&'d str, usize, (i32, i32))> = self
            .declared
            .iter()
            .filter(|(_, d)| d.kind == Kind::Reference)
            .map(|(id, d)| (*id, d.offset, d.xy))
            .collect();
        refs.sort_by_key(|r| r.1);
        for (id, offset, xy) in refs {
            let at = self.doc.position(offset);
            let mut current = id;
            let mut steps = 0usize;
            let outside = loop {
                let Some(d) = self.declared.get(current) else {
                    break Some(current);
                };
                match d.kind {
                    Kind::Place => break None,
                    Kind::Reference => {
                        steps += 1;
                        if steps > self.declared.len() {
                            return Err(ImportError::BadValue {
                                element: format!("referencePlace {id}"),
                                position: Some(at),
                                message: format!(
                                    "reference place cycle through '{}'",
                                    xml::shorten(id)
                                ),
                            });
                        }
                        current = d.connected;
                    }
                    Kind::Transition | Kind::Subnet => {
                        return Err(ImportError::MissingNode {
                            element: format!("referencePlace {id}"),
                            position: at,
                            node: current.to_string(),
                            expected: "place".into(),
                        })
                    }
                }
            };
            let Some(missing) = outside else { continue };
            self.data.places.push(Place {
                keyed: false,
                id: missing.to_string(),
                label: String::new(),
                initial: 0,
                capacity: 0,
                x: xy.0,
                y: xy.1,
            });
            self.declared.insert(
                missing,
                Declared {
                    kind: Kind::Place,
                    connected: "",
                    offset,
                    index: self.data.places.len() - 1,
                    xy,
                },
            );
            self.warnings.push(Warning {
                element: id.to_string(),
                position: Some(at),
                message: format!(
                    "reference place to '{}', which is not in this file (a subnet's reference into the net it is pasted into): imported as an empty place '{0}'",
                    xml::shorten(missing)
                ),
            });
        }
        Ok(())
    }

    /// The place or transition an id stands for (reference places followed).
    fn resolve(
        &self,
        id: &str,
        referrer: &str,
        at: El,
        want_place: bool,
    ) -> Result<(&'d str, Kind), ImportError> {
        let missing = |node: &str| ImportError::MissingNode {
            element: referrer.to_string(),
            position: self.doc.position(at.offset()),
            node: node.to_string(),
            expected: if want_place {
                "place"
            } else {
                "place or transition"
            }
            .to_string(),
        };
        let mut current = id;
        for _ in 0..=self.declared.len() {
            let Some((key, d)) = self.declared.get_key_value(current) else {
                return Err(missing(current));
            };
            match d.kind {
                Kind::Reference => current = d.connected,
                Kind::Subnet => return Err(missing(current)),
                Kind::Transition if want_place => return Err(missing(current)),
                kind => return Ok((key, kind)),
            }
        }
        Err(self.doc.bad(
            referrer,
            at,
            format!("reference place cycle through '{}'", xml::shorten(id)),
        ))
    }

    fn arc(&mut self, el: El<'d, 'a>, offset: (i32, i32)) -> Result<Arc, ImportError> {
        let source = el.child_text("sourceId").unwrap_or("").trim();
        let target = el.child_text("destinationId").unwrap_or("").trim();
        let name = format!("{source}->{target}");
        for (end, what) in [(source, "sourceId"), (target, "destinationId")] {
            if end.is_empty() {
                return Err(self.doc.bad(&name, el, format!("arc without a <{what}>")));
            }
        }
        let (source, _) = self.resolve(source, &format!("arc {name}"), el, false)?;
        let (target, _) = self.resolve(target, &format!("arc {name}"), el, false)?;
        let mut arc = Arc {
            key: None,
            source: source.to_string(),
            target: target.to_string(),
            weight: 1,
            kind: ArcKind::Normal,
            points: Vec::new(),
        };
        for child in el.children() {
            match child.name() {
                "sourceId" | "destinationId" | "realSourceId" | "realDestinationId" => {}
                "multiplicity" => arc.weight = self.count(&name, child)?,
                "type" => {
                    arc.kind = match child.text().trim() {
                        "" | "regular" => ArcKind::Normal,
                        "inhibitor" => ArcKind::Inhibitor,
                        "reset" => ArcKind::Reset,
                        other => {
                            return Err(self.doc.unsupported(
                                &name,
                                child,
                                format!(
                                "arc type \"{}\" (PNEditor arcs are regular, inhibitor or reset)",
                                xml::shorten(other)
                            ),
                            ))
                        }
                    }
                }
                // Older PNEditor files: boolean flags instead of <type>.
                "inhibitory" | "reset" => {
                    if child.text().trim() == "true" {
                        arc.kind = if child.name() == "reset" {
                            ArcKind::Reset
                        } else {
                            ArcKind::Inhibitor
                        };
                    }
                }
                "breakPoint" => {
                    let (x, y) = self.xy(&name, child)?;
                    let (x, y) = self.shift(&name, child, offset, x, y)?;
                    arc.points.push(Point { x, y });
                }
                _ => self.unknown(child, &name),
            }
        }
        Ok(arc)
    }

    fn roles(&mut self, roles: El<'d, 'a>) -> Result<(), ImportError> {
        for role in roles.children() {
            if role.name() != "role" {
                self.unknown(role, "roles");
                continue;
            }
            let role_id = role.child_text("id").unwrap_or("").trim();
            let name = match role.child_text("name") {
                Some(n) if !n.is_empty() => n.to_string(),
                _ => role_id.to_string(),
            };
            let element = format!("role {name}");
            if name.is_empty() {
                return Err(self
                    .doc
                    .bad("role", role, "role without a name or id".into()));
            }
            for child in role.children() {
                match child.name() {
                    "id" | "name" => {}
                    "transitionId" => {
                        let tid = child.text().trim();
                        let index = match self.declared.get(tid) {
                            Some(d) if d.kind == Kind::Transition => d.index,
                            _ => {
                                return Err(ImportError::MissingNode {
                                    element,
                                    position: self.doc.position(child.offset()),
                                    node: tid.to_string(),
                                    expected: "transition".into(),
                                })
                            }
                        };
                        self.data.transitions[index].roles.push(name.clone());
                    }
                    "createCase" | "destroyCase" => {
                        if child.text().trim() == "true" {
                            self.warn(
                                &element,
                                child,
                                format!("<{}> true ignored: petrichain streams are created and closed by the application", child.name()),
                            );
                        }
                    }
                    _ => self.unknown(child, &element),
                }
            }
        }
        Ok(())
    }

    fn count(&self, element: &str, el: El) -> Result<u64, ImportError> {
        self.doc.count(element, el, el.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(body: &str) -> Result<Imported, ImportError> {
        import_pflow(format!("<document><subnet>{body}</subnet></document>"))
    }

    const P1: &str = "<place><id>1</id><x>10</x><y>20</y><label>p</label><tokens>3</tokens><isStatic>false</isStatic></place>";
    const T2: &str = "<transition><id>2</id><x>1</x><y>2</y><label>t</label></transition>";

    #[test]
    fn nested_subnets_offset_positions_and_references_resolve() {
        let (model, warnings) = net(&format!(
            "{P1}<subnet><id>9</id><x>100</x><y>200</y><label/>
               <referencePlace><id>5</id><x>0</x><y>0</y><connectedPlaceId>1</connectedPlaceId></referencePlace>
               <subnet><id>10</id><x>1000</x><y>0</y>
                 <referencePlace><id>6</id><x>0</x><y>0</y><connectedPlaceId>5</connectedPlaceId></referencePlace>
                 {T2}
                 <arc><type>reset</type><sourceId>6</sourceId><destinationId>2</destinationId><multiplicity>1</multiplicity>
                   <breakPoint><x>5</x><y>5</y></breakPoint></arc>
               </subnet></subnet>"
        ))
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let t = &model.transitions()[0];
        assert_eq!((t.x, t.y), (1101, 202));
        let a = &model.arcs()[0];
        assert_eq!(
            (a.source.as_str(), a.target.as_str(), a.kind),
            ("1", "2", ArcKind::Reset)
        );
        assert_eq!(a.points, vec![Point { x: 1105, y: 205 }]);
    }

    #[test]
    fn bad_references_duplicates_and_overflow_are_errors() {
        let err = net(&format!(
            "{P1}{T2}<arc><sourceId>1</sourceId><destinationId>7</destinationId></arc>"
        ))
        .unwrap_err();
        assert_eq!(err.code(), "MISSING_NODE");
        assert!(err.to_string().contains("arc 1->7 refers to '7'"), "{err}");
        let err = net(&format!("{P1}{P1}")).unwrap_err();
        assert_eq!(err.code(), "DUPLICATE_ID");
        let err = net("<place><id>1</id><tokens>9007199254740992</tokens></place>").unwrap_err();
        assert_eq!(err.code(), "OVERFLOW");
        let err = net(&format!("{P1}{T2}<arc><sourceId>1</sourceId><destinationId>2</destinationId><multiplicity>99999999999999999999</multiplicity></arc>")).unwrap_err();
        assert_eq!(err.code(), "OVERFLOW");
        let err = net("<referencePlace><id>5</id><connectedPlaceId>5</connectedPlaceId></referencePlace><transition><id>2</id></transition><arc><sourceId>5</sourceId><destinationId>2</destinationId></arc>").unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
        let err = import_pflow(format!("<document><subnet>{P1}</subnet><roles><role><id>1</id><name>r</name><transitionId>1</transitionId></role></roles></document>")).unwrap_err();
        assert_eq!(err.code(), "MISSING_NODE");
        let err = net(&format!("{P1}{T2}<arc><type>transport</type><sourceId>1</sourceId><destinationId>2</destinationId></arc>")).unwrap_err();
        assert_eq!(err.code(), "UNSUPPORTED");
        assert_eq!(import_pflow("<pnml/>").unwrap_err().code(), "WRONG_ROOT");
        assert_eq!(import_pflow("<document/>").unwrap_err().code(), "BAD_VALUE");
    }

    #[test]
    fn unknown_elements_and_static_places_warn_with_positions() {
        let (_, warnings) =
            net("\n<place><id>1</id><isStatic>true</isStatic><colour>red</colour></place>")
                .unwrap();
        let got: Vec<_> = warnings
            .iter()
            .map(|w| (w.element.as_str(), w.position.unwrap().to_string()))
            .collect();
        assert_eq!(
            got,
            vec![("1", "2:18".to_string()), ("1", "2:43".to_string())]
        );
        assert!(warnings[1].message.contains("<colour>"));
    }

    #[test]
    fn a_transition_in_two_roles_accepts_either() {
        let (model, _) = import_pflow(format!(
            "<document><subnet>{P1}{T2}<arc><sourceId>1</sourceId><destinationId>2</destinationId><multiplicity>1</multiplicity></arc></subnet>
             <roles><role><id>1</id><name>a</name><transitionId>2</transitionId></role>
                    <role><id>2</id><name>b</name><transitionId>2</transitionId></role></roles></document>"
        ))
        .unwrap();
        let m0 = model.initial_marking();
        for role in ["a", "b"] {
            let opts = crate::FireOptions {
                multiple: 1,
                roles: &[role],
            };
            assert!(model.fire(&m0, "2", &opts).is_ok(), "{role}");
        }
        let opts = crate::FireOptions {
            multiple: 1,
            roles: &["c"],
        };
        assert_eq!(
            model.fire(&m0, "2", &opts).unwrap_err().code(),
            "ROLE_DENIED"
        );
    }

    /// A PNEditor subnet file (`.pflowx`): its reference places point into
    /// the net it is pasted into (ids 90 and 91 are not in the file), and
    /// two references share the outer place 90.
    const PFLOWX: &str = "<document><subnet><id>0</id><x>0</x><y>0</y>
<referencePlace><id>5</id><x>10</x><y>20</y><connectedPlaceId>90</connectedPlaceId></referencePlace>
<referencePlace><id>6</id><x>300</x><y>20</y><connectedPlaceId>91</connectedPlaceId></referencePlace>
<referencePlace><id>7</id><x>10</x><y>90</y><connectedPlaceId>5</connectedPlaceId></referencePlace>
<transition><id>2</id><x>150</x><y>20</y><label>work</label></transition>
<arc><sourceId>5</sourceId><destinationId>2</destinationId><multiplicity>1</multiplicity></arc>
<arc><sourceId>7</sourceId><destinationId>2</destinationId><multiplicity>1</multiplicity><type>inhibitor</type></arc>
<arc><sourceId>2</sourceId><destinationId>6</destinationId><multiplicity>1</multiplicity></arc>
</subnet><roles/></document>";

    #[test]
    fn subnet_files_with_references_into_the_outer_net_import() {
        let (model, warnings) = import_pflow(PFLOWX).unwrap();
        let places: Vec<_> = model
            .places()
            .iter()
            .map(|p| (p.id.as_str(), p.x, p.y, p.initial))
            .collect();
        assert_eq!(places, vec![("90", 10, 20, 0), ("91", 300, 20, 0)]);
        let arcs: Vec<_> = model
            .arcs()
            .iter()
            .map(|a| (a.source.as_str(), a.target.as_str(), a.kind))
            .collect();
        assert_eq!(
            arcs,
            vec![
                ("2", "91", ArcKind::Normal),
                ("90", "2", ArcKind::Normal),
                ("90", "2", ArcKind::Inhibitor)
            ]
        );
        // One warning per reference whose place is outside, naming the reference.
        let got: Vec<_> = warnings
            .iter()
            .map(|w| (w.element.as_str(), w.position.unwrap().to_string()))
            .collect();
        assert_eq!(got, vec![("5", "2:1".into()), ("6", "3:1".into())]);
        assert!(warnings[0]
            .message
            .contains("'90', which is not in this file"));
    }

    #[test]
    fn a_reference_to_a_transition_blames_the_reference_not_an_arc() {
        let text = PFLOWX.replace(
            "<connectedPlaceId>90</connectedPlaceId>",
            "<connectedPlaceId>2</connectedPlaceId>",
        );
        let err = import_pflow(text).unwrap_err();
        assert_eq!(err.code(), "MISSING_NODE");
        assert!(
            err.to_string()
                .starts_with("2:1: referencePlace 5 refers to '2', which is no place"),
            "{err}"
        );
    }
}
