fn main() {
    let (m, _) = petrichain::formats::json::import_json(r#"{"places":[{"id":"a\n\tb\r "}],"transitions":[{"id":" t"}],"arcs":[{"source":"a\n\tb\r ","target":" t"}]}"#).unwrap();
    let x = petrichain::formats::pnml::export_pnml(&m);
    match petrichain::formats::import(x.as_bytes()) {
        Ok((m2, _)) => println!("same {}", m2.id() == m.id()),
        Err(e) => println!("ERR {e}"),
    }
    let r = petrichain::formats::json::import_json(
        r#"{"places":[{"id":"p"}],"finalMarkings":[{"ghost":1}]}"#,
    );
    println!("{:?}", r.map(|m| m.0.final_markings().to_vec()));
}
