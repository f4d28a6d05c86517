// File import / export through the built package: every corpus file, format
// detected from content, warnings exposed, PNML round trip, hostile input refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { initSync, Model } from "../../pkg/petrichain.js";

initSync({ module: readFileSync(new URL("../../pkg/petrichain_bg.wasm", import.meta.url)) });

const corpus = new URL("../fixtures/", import.meta.url);
const files = readdirSync(corpus).filter((f) => f !== "SOURCES.md");

test("every corpus file imports from text and from bytes, with the same id", () => {
  assert.ok(files.length >= 9);
  for (const file of files) {
    const bytes = readFileSync(new URL(file, corpus));
    const fromText = Model.import(bytes.toString("utf8"));
    const fromBytes = Model.import(new Uint8Array(bytes));
    assert.equal(fromText.id, fromBytes.id, file);
    assert.ok(fromText.places.length > 0, `${file}: has places`);
    assert.ok(Array.isArray(fromText.warnings), `${file}: warnings is a list`);
  }
});

test("PNML export imports back to the same model", () => {
  for (const file of files) {
    const model = Model.import(readFileSync(new URL(file, corpus), "utf8"));
    const again = Model.fromPnml(model.toPnml());
    assert.equal(again.id, model.id, file);
  }
});

test("format-specific readers and the PIPE inhibitor semantics", () => {
  const pipe = Model.fromPnml(readFileSync(new URL("pipe-inhibitorArc.xml", corpus), "utf8"));
  assert.ok(pipe.arcs.some((a) => a.kind === "inhibitor"));
  const pflow = Model.fromPflow(readFileSync(new URL("pneditor-insurance-company.pflow", corpus), "utf8"));
  assert.ok(
    pflow.transitions.some((t) => t.roles.length > 0),
    "PNEditor roles kept",
  );
  assert.throws(
    () => Model.fromPflow(readFileSync(new URL("pipe-inhibitorArc.xml", corpus), "utf8")),
    (e) => e instanceof Error && typeof e.code === "string",
  );
});

test("hostile and broken files get typed errors", () => {
  const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><pnml><net id="n"/></pnml>`;
  const cases = [
    [bomb, "DTD_REFUSED"],
    ['<pnml><net id="n" type="x"><page id="p"><place id="a"/>', "TRUNCATED"],
    ["<html></html>", "WRONG_ROOT"],
    ["hello", "UNKNOWN_FORMAT"],
  ];
  for (const [text, code] of cases) {
    assert.throws(
      () => Model.import(text),
      (e) => {
        assert.ok(e instanceof Error);
        assert.equal(e.code, code, `${text.slice(0, 30)}: ${e.message}`);
        return true;
      },
    );
  }
  assert.throws(
    () => Model.import(42),
    (e) => e.code === "BAD_ARGUMENT",
  );
});

test("pflow JSON-LD export comes back with the same id; DOT export names every node", () => {
  for (const file of files) {
    const model = Model.import(readFileSync(new URL(file, corpus), "utf8"));
    const jsonld = JSON.parse(model.toPflow());
    assert.equal(jsonld["@context"], "https://pflow.xyz/schema", file);
    assert.equal(jsonld["@type"], "PetriNet", file);
    const again = Model.import(model.toPflow());
    assert.equal(again.id, model.id, file);
    assert.deepEqual(again.warnings, [], file);
    const dot = model.toDot();
    assert.match(dot, /^digraph "/, file);
    for (const p of model.places)
      assert.ok(dot.includes(`"${p.id.replaceAll('"', '\\"')}" [shape=circle`), `${file}: ${p.id}`);
    for (const t of model.transitions)
      assert.ok(dot.includes(`"${t.id.replaceAll('"', '\\"')}" [shape=box`), `${file}: ${t.id}`);
    assert.equal(dot.match(/ -> /g)?.length ?? 0, model.arcs.length, file);
  }
});

test("TAPAAL and LoLA files are detected from their content", () => {
  const tapn = `<pnml><net id="c" active="true" type="P/T net">
  <place id="P0" name="P0" initialMarking="1" invariant="&lt; inf" positionX="10" positionY="10"/>
  <transition id="T0" name="T0" positionX="100" positionY="10" urgent="false"/>
  <arc id="a" source="P0" target="T0" type="timed" inscription="[2,5]" weight="1"/>
</net></pnml>`;
  const t = Model.import(tapn);
  assert.deepEqual(
    t.places.map((p) => [p.id, p.initial, p.x, p.y]),
    [["P0", 1, 25, 25]],
  );
  assert.equal(t.warnings.length, 1);
  assert.match(t.warnings[0].message, /time interval \[2,5\] ignored/);
  const lola = Model.import(
    "{ mutex }\nPLACE SAFE 1: m; a;\nMARKING a: 2, m;\nTRANSITION t CONSUME a, m; PRODUCE m;\n",
  );
  assert.deepEqual(
    lola.places.map((p) => [p.id, p.initial, p.capacity]),
    [
      ["a", 2, 0],
      ["m", 1, 1],
    ],
  );
  assert.throws(
    () => Model.import("PLACE p;\nMARKING q;"),
    (e) => e.code === "MISSING_NODE" && /2:9/.test(e.message),
  );
});

test("limits hold in wasm: 56 MiB of '<' is a typed error, not a trap; a too-large JSON model stops early", () => {
  // Used to trap with `RuntimeError: unreachable` (the XML arenas asked for
  // one element per `<`, a capacity beyond 32-bit memory).
  const brackets = new Uint8Array(56 << 20).fill(0x3c);
  assert.throws(
    () => Model.import(brackets),
    (e) => e.name === "PetrichainError" && e.code === "TRUNCATED",
  );
  // 200,001 places then garbage: refused for the count while it is read.
  const places = Array.from({ length: 200_001 }, (_, i) => `{"id":"p${i}"}`).join(",");
  assert.throws(
    () => Model.import(`{"places":[${places},garbage`),
    (e) => e.code === "TOO_LARGE" && /more than 200000 places and transitions/.test(e.message),
  );
});

test("UTF-16 files are told to be saved as UTF-8; duplicate JSON keys are named", () => {
  const json = '{"places":[{"id":"p"}]}';
  const le = new Uint8Array(Buffer.from(`\ufeff${json}`, "utf16le"));
  assert.throws(
    () => Model.import(le),
    (e) => e.code === "ENCODING" && e.message.includes("save it as UTF-8"),
  );
  const noBom = new Uint8Array(Buffer.from('<pnml><net id="n"/></pnml>', "utf16le"));
  assert.throws(
    () => Model.import(noBom),
    (e) => e.code === "ENCODING" && e.message.includes("UTF-16LE"),
  );
  assert.throws(
    () => Model.fromJson('{"places":[{"id":"p","initial":1,"initial":2}]}'),
    (e) => e.code === "DUPLICATE_KEY" && e.message.includes('key "initial" appears twice in places[0]'),
  );
});
