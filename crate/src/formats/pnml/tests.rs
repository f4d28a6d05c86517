use super::*;
use crate::FireOptions;

fn pnml(body: &str) -> Result<Imported, ImportError> {
    import_pnml(format!(
        "<pnml xmlns=\"http://www.pnml.org/version-2009/grammar/pnml\">\n<net id=\"n\" type=\"{PTNET_TYPE}\">\n{body}\n</net></pnml>"
    ))
}

const PT: &str =
    r#"<place id="p"><initialMarking><text>2</text></initialMarking></place><transition id="t"/>"#;

#[test]
fn nested_pages_and_reference_chains_are_flattened() {
    let (model, warnings) = pnml(
        r#"<page id="g1"><place id="p"><name><text>stock</text></name>
             <graphics><position x="10.4" y="-3.5"/></graphics>
             <initialMarking><text> 3 </text></initialMarking></place>
           <page id="g2"><page id="g3">
             <referencePlace id="r1" ref="p"/>
             <referencePlace id="r2" ref="r1"/>
             <referenceTransition id="rt" ref="t"/>
             <arc id="a1" source="r2" target="rt"><inscription><text>2</text></inscription>
               <graphics><position x="1" y="2"/><position x="3" y="4"/></graphics></arc>
           </page></page>
           <transition id="t"><graphics><position x="50" y="0"/></graphics></transition>
         </page>"#,
    )
    .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let p = &model.places()[0];
    assert_eq!(
        (p.label.as_str(), p.initial, p.x, p.y),
        ("stock", 3, 10, -4)
    );
    let a = &model.arcs()[0];
    assert_eq!(
        (a.source.as_str(), a.target.as_str(), a.weight),
        ("p", "t", 2)
    );
    assert_eq!(a.points, vec![Point { x: 1, y: 2 }, Point { x: 3, y: 4 }]);
    assert_eq!(model.places().len() + model.transitions().len(), 2);
}

#[test]
fn reference_errors_are_clear() {
    let err = pnml(&format!(r#"{PT}<referencePlace id="r" ref="nowhere"/>"#)).unwrap_err();
    assert_eq!(err.code(), "MISSING_NODE");
    assert!(err.to_string().contains("refers to 'nowhere'"), "{err}");
    let err = pnml(&format!(
        r#"{PT}<referencePlace id="r1" ref="r2"/><referencePlace id="r2" ref="r1"/>"#
    ))
    .unwrap_err();
    assert!(err.to_string().contains("reference cycle"), "{err}");
    let err = pnml(&format!(r#"{PT}<referencePlace id="r" ref="t"/>"#)).unwrap_err();
    assert_eq!(err.code(), "BAD_VALUE");
    assert!(
        err.to_string().contains("may only refer to a place"),
        "{err}"
    );
}

#[test]
fn duplicate_ids_missing_nodes_and_overflow() {
    let err = pnml(&format!("{PT}\n<transition id=\"p\"/>")).unwrap_err();
    assert_eq!(
        err,
        ImportError::DuplicateId {
            id: "p".into(),
            position: crate::formats::Position { line: 4, column: 1 },
            first: crate::formats::Position { line: 3, column: 1 },
        }
    );
    let err = pnml(&format!(r#"{PT}<arc id="a9" source="p" target="ghost"/>"#)).unwrap_err();
    assert_eq!(err.code(), "MISSING_NODE");
    assert!(err.to_string().starts_with("3:"), "{err}");
    assert!(err.to_string().contains("a9 refers to 'ghost'"), "{err}");
    let err = pnml(
        r#"<place id="p"><initialMarking><text>9007199254740992</text></initialMarking></place>"#,
    )
    .unwrap_err();
    assert_eq!(err.code(), "OVERFLOW");
    let err = pnml(&format!(
        r#"{PT}<arc id="a" source="p" target="t"><inscription><value>Default,18446744073709551616</value></inscription></arc>"#
    ))
    .unwrap_err();
    assert_eq!(err.code(), "OVERFLOW");
    assert!(err.to_string().starts_with("a (at 3:"), "{err}");
    let err = pnml(r#"<place><name><text>x</text></name></place>"#).unwrap_err();
    assert_eq!(err.code(), "BAD_VALUE");
    assert_eq!(import_pnml("<document/>").unwrap_err().code(), "WRONG_ROOT");
    assert_eq!(
        import_pnml("<pnml></pnml>").unwrap_err().code(),
        "BAD_VALUE"
    );
}

#[test]
fn arc_kinds_from_pipe_type_and_prom_arctype() {
    let (model, _) = pnml(
        r#"<place id="a"/><place id="b"/><place id="c"/><place id="d"/><transition id="t"/>
           <arc id="1" source="a" target="t"><type value="inhibitor"/></arc>
           <arc id="2" source="b" target="t"><arctype><text>reset</text></arctype></arc>
           <arc id="3" source="c" target="t"><type value="read"/></arc>
           <arc id="4" source="d" target="t"><arctype><text>normal</text></arctype></arc>"#,
    )
    .unwrap();
    let kinds: Vec<_> = model.arcs().iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ArcKind::Inhibitor,
            ArcKind::Reset,
            ArcKind::Read,
            ArcKind::Normal
        ]
    );
    let err = pnml(&format!(
        r#"{PT}<arc id="a" source="p" target="t"><type value="transport"/></arc>"#
    ))
    .unwrap_err();
    assert_eq!(err.code(), "UNSUPPORTED");
}

#[test]
fn coloured_and_high_level_nets_are_refused_not_misread() {
    let err = pnml(r#"<token id="Default"/><token id="Red"/>"#).unwrap_err();
    assert_eq!(err.code(), "UNSUPPORTED");
    let err = pnml(
        r#"<place id="p"><initialMarking><value>Default,1,Red,2</value></initialMarking></place>"#,
    )
    .unwrap_err();
    assert_eq!(err.code(), "UNSUPPORTED");
    let err = import_pnml(
        r#"<pnml><net id="n" type="http://www.pnml.org/version-2009/grammar/symmetricnet"/></pnml>"#,
    )
    .unwrap_err();
    assert_eq!(err.code(), "UNSUPPORTED");
}

#[test]
fn unknown_content_warns_with_element_and_position() {
    let (_, warnings) =
        pnml("<place id=\"p\">\n  <toolspecific tool=\"Tina\"/>\n  <colour/>\n</place>\n<labels/>")
            .unwrap();
    let got: Vec<_> = warnings
        .iter()
        .map(|w| {
            (
                w.element.as_str(),
                w.position.unwrap().to_string(),
                w.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("p", "4:3".into(), "tool-specific data of \"Tina\" ignored"),
            ("p", "5:3".into(), "unknown element <colour> in p ignored"),
            ("n", "7:1".into(), "unknown element <labels> in n ignored"),
        ]
    );
    let (_, warnings) =
        import_pnml(r#"<pnml><net id="a" type="weird"/><net id="b"/></pnml>"#).unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
}

/// WoPeD writes the pre-2009 net type, no page, and roles in toolspecific.
#[test]
fn woped_file_with_roles() {
    let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<pnml>
  <net type="http://www.informatik.hu-berlin.de/top/pntd/ptNetb" id="noID">
    <place id="p1">
      <name><text>p1</text><graphics><offset x="20" y="60"/></graphics></name>
      <graphics><position x="30" y="40"/><dimension x="40" y="40"/></graphics>
      <initialMarking><text>1</text></initialMarking>
    </place>
    <place id="p2">
      <name><text>p2</text></name>
      <graphics><position x="230" y="40"/><dimension x="40" y="40"/></graphics>
    </place>
    <transition id="t1">
      <name><text>approve</text></name>
      <graphics><position x="130" y="40"/><dimension x="40" y="40"/></graphics>
      <toolspecific tool="WoPeD" version="1.0">
        <time>0</time><timeUnit>1</timeUnit><orientation>1</orientation>
        <transitionResource roleName="manager" organizationalUnitName="office"/>
      </toolspecific>
    </transition>
    <arc id="a1" source="p1" target="t1"><inscription><text>1</text></inscription><graphics/>
      <toolspecific tool="WoPeD" version="1.0"><probability>1.0</probability><displayProbabilityOn>false</displayProbabilityOn></toolspecific></arc>
    <arc id="a2" source="t1" target="p2"><inscription><text>1</text></inscription><graphics/></arc>
    <toolspecific tool="WoPeD" version="1.0"><bounds><position x="2" y="25"/><dimension x="763" y="574"/></bounds></toolspecific>
  </net>
</pnml>"#;
    let (model, warnings) = import_pnml(text).unwrap();
    assert_eq!(model.transitions()[0].roles, vec!["manager".to_string()]);
    assert_eq!((model.places()[0].x, model.places()[0].y), (30, 40));
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    let m = model.initial_marking();
    let manager = FireOptions {
        multiple: 1,
        roles: &["manager"],
    };
    let m = model.fire(&m, "t1", &manager).unwrap();
    assert_eq!(model.marking_map(&m)["p2"], 1);
    assert_eq!(
        model
            .fire(&model.initial_marking(), "t1", &FireOptions::default())
            .unwrap_err()
            .code(),
        "ROLE_DENIED"
    );
}

#[test]
fn export_keeps_every_arc_kind_capacity_roles_and_final_markings() {
    let (model, _) = crate::formats::json::import_json(
        r#"{"name": "a <b> & \"c\"\n", "places": [
             {"id": "p&1", "label": " spaced\ttab ", "initial": 2, "capacity": 5, "x": -3, "y": 7},
             {"id": "q", "initial": 1}, {"id": "r"}, {"id": "s"}],
           "transitions": [{"id": "t", "roles": ["b", "a"]}],
           "arcs": [{"source": "p&1", "target": "t", "weight": 2, "points": [{"x": 1, "y": 2}]},
                    {"source": "q", "target": "t", "kind": "read"},
                    {"source": "r", "target": "t", "kind": "reset"},
                    {"source": "s", "target": "t", "kind": "inhibitor", "weight": 3},
                    {"source": "t", "target": "s"}],
           "finalMarkings": [{"s": 1}]}"#,
    )
    .unwrap();
    let text = export_pnml(&model);
    assert!(text.contains(EXTENDED_NET_TYPE));
    let (again, warnings) = import_pnml(&text).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(again.canonical_json(), model.canonical_json());
}

#[test]
fn export_of_a_plain_net_is_a_plain_ptnet() {
    let (model, _) = pnml(PT).unwrap();
    let text = export_pnml(&model);
    assert!(text.contains(&format!("type=\"{PTNET_TYPE}\"")));
    assert!(!text.contains("toolspecific"));
}

mod round_trip {
    use super::*;
    use crate::model::{Arc, ModelData, Place, Point, Transition};
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        // Printable text, XML specials and the whitespace characters XML
        // would normalise if they were written literally.
        proptest::string::string_regex("[a-zA-Z0-9 <>&\"'\t\n\r_.:é中-]{0,12}").unwrap()
    }

    fn id() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[a-zA-Z_][a-zA-Z0-9 &<>\"'_.-]{0,8}").unwrap()
    }

    fn model() -> impl Strategy<Value = ModelData> {
        (
            text(),
            proptest::collection::btree_set(id(), 2..10),
            proptest::collection::vec(
                (
                    0..=crate::MAX_TOKENS,
                    0u64..4,
                    any::<i32>(),
                    any::<i32>(),
                    text(),
                ),
                10,
            ),
            proptest::collection::vec(
                (
                    any::<prop::sample::Index>(),
                    any::<prop::sample::Index>(),
                    1..=crate::MAX_TOKENS,
                    0usize..4,
                    proptest::collection::vec((any::<i32>(), any::<i32>()), 0..3),
                    any::<bool>(),
                ),
                0..12,
            ),
            proptest::collection::vec(text(), 0..3),
            any::<bool>(),
        )
            .prop_map(|(name, ids, attrs, arcs, roles, final_marking)| {
                let ids: Vec<String> = ids.into_iter().collect();
                let split = ids.len() / 2;
                let places: Vec<Place> = ids[..split]
                    .iter()
                    .zip(&attrs)
                    .map(|(id, (initial, cap, x, y, label))| Place {
                        id: id.clone(),
                        label: label.clone(),
                        // capacity 0 = unbounded, else >= initial
                        capacity: if *cap == 0 { 0 } else { (*initial).max(*cap) },
                        initial: *initial,
                        x: *x,
                        y: *y,
                    })
                    .collect();
                let transitions: Vec<Transition> = ids[split..]
                    .iter()
                    .zip(&attrs)
                    .enumerate()
                    .map(|(i, (id, (_, _, x, y, label)))| Transition {
                        id: id.clone(),
                        label: label.clone(),
                        roles: if i % 2 == 0 { roles.clone() } else { vec![] },
                        x: *x,
                        y: *y,
                    })
                    .collect();
                let kinds = [
                    ArcKind::Normal,
                    ArcKind::Inhibitor,
                    ArcKind::Read,
                    ArcKind::Reset,
                ];
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::new();
                for (pi, ti, weight, kind, points, outgoing) in arcs {
                    let p = &places[pi.index(places.len())].id;
                    let t = &transitions[ti.index(transitions.len())].id;
                    let kind = if outgoing {
                        ArcKind::Normal
                    } else {
                        kinds[kind]
                    };
                    let (source, target) = if outgoing { (t, p) } else { (p, t) };
                    if seen.insert((source.clone(), target.clone(), kind)) {
                        out.push(Arc {
                            source: source.clone(),
                            target: target.clone(),
                            weight,
                            kind,
                            points: points.into_iter().map(|(x, y)| Point { x, y }).collect(),
                        });
                    }
                }
                let final_markings = if final_marking {
                    vec![places.iter().map(|p| (p.id.clone(), p.initial)).collect()]
                } else {
                    vec![]
                };
                ModelData {
                    name,
                    places,
                    transitions,
                    arcs: out,
                    final_markings,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any valid model -> PNML -> import gives the same model id.
        #[test]
        fn pnml_export_then_import_keeps_the_id(data in model()) {
            let model = Model::new(data).unwrap();
            let text = export_pnml(&model);
            let (again, warnings) = import_pnml(&text).unwrap();
            prop_assert!(warnings.is_empty(), "{:?}", warnings);
            prop_assert_eq!(again.canonical_json(), model.canonical_json());
            // And the content-detecting entry point agrees.
            let (detected, _) = crate::formats::import(text.as_bytes()).unwrap();
            prop_assert_eq!(detected.id(), model.id());
            // The canonical JSON export reads back the same way.
            let (json, _) = crate::formats::import(model.canonical_json().as_bytes()).unwrap();
            prop_assert_eq!(json.id(), model.id());
        }
    }
}
