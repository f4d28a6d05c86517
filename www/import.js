// Importing the user's own net: a file picker and drag and drop anywhere on the
// page. The format (PNML, PNEditor .pflow, pflow JSON / JSON-LD, petrichain
// JSON) is detected by the engine from the content; its warnings are shown.
import { Model } from "petrichain";
import { $, h, describe } from "./dom.js";

const MAX_BYTES = 8 * 1024 * 1024;

/**
 * Reads a net from file text, whatever its format (the engine detects it):
 * `{ model, warnings }`; throws the engine's error (code, line:column).
 */
export function readNet(text) {
  const model = Model.import(text);
  return { model, warnings: model.warnings };
}

/** "2:45 n1: message" from an ImportWarning `{element, position?, message}`. */
function warningText(w) {
  const where = [w.position && `${w.position.line}:${w.position.column}`, w.element].filter(Boolean).join(" ");
  return where ? `${where}: ${w.message}` : w.message;
}

/** Shows the outcome of an import: the warnings, or the error. */
export function showImportReport({ file, warnings = [], error = null }) {
  const box = $("import-report");
  box.hidden = false;
  box.className = `import-report ${error ? "bad" : warnings.length ? "warn" : "ok"}`;
  const head = error
    ? h("p", {}, h("strong", {}, `Could not import ${file}: `), describe(error))
    : h(
        "p",
        {},
        h("strong", {}, `Imported ${file}`),
        warnings.length ? ` with ${warnings.length} warning${warnings.length > 1 ? "s" : ""}:` : " with no warnings.",
      );
  box.replaceChildren(
    head,
    ...(warnings.length
      ? [
          h(
            "ul",
            { className: "warnings" },
            warnings.map((w) => h("li", {}, warningText(w))),
          ),
        ]
      : []),
  );
}

/** Wires the picker and drag and drop; `onNet({ model, warnings, file })` gets each imported net. */
export function wireImport(onNet) {
  const handle = async (file) => {
    if (!file) return;
    try {
      if (file.size > MAX_BYTES) throw new Error(`the file is ${file.size} bytes; the limit is ${MAX_BYTES}`);
      const { model, warnings } = readNet(await file.text());
      showImportReport({ file: file.name, warnings });
      await onNet({ model, warnings, file: file.name });
    } catch (error) {
      showImportReport({ file: file.name, error });
    }
  };
  const input = $("file-input");
  input.addEventListener("change", () => {
    handle(input.files[0]);
    input.value = "";
  });
  const zone = $("dropzone");
  const isFile = (e) => [...(e.dataTransfer?.types ?? [])].includes("Files");
  document.addEventListener("dragover", (e) => {
    if (!isFile(e)) return;
    e.preventDefault();
    zone.classList.add("dragging");
  });
  document.addEventListener("dragleave", (e) => {
    if (e.relatedTarget === null) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", (e) => {
    if (!isFile(e)) return;
    e.preventDefault();
    zone.classList.remove("dragging");
    handle(e.dataTransfer.files[0]);
  });
}
