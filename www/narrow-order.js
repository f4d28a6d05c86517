// On a narrow screen the open net comes first and, in the stream, the net
// before the firing options, the stream's actions and the exports. CSS
// `order` would move the boxes but not the keyboard's Tab order, so the
// DOM itself is rearranged to match what the eye sees, and put back at
// desktop width (where the sidebar is on the left and comes first).
const NARROW = "(max-width: 860px)";

/** Keeps the DOM order of the layout equal to its visual order, now and on every change. */
export function keepTabOrderVisual() {
  const layout = document.querySelector(".layout");
  const sidebar = layout.querySelector(".sidebar");
  const main = layout.querySelector("main");
  const workspace = document.getElementById("workspace");
  const head = workspace.querySelector(".net-head");
  const editNet = document.getElementById("edit-net");
  const fireOptions = document.getElementById("fire-options");
  const error = document.getElementById("error");
  const actions = head.querySelector(".stream-actions");
  const exports = head.querySelector(".exports");
  const media = matchMedia(NARROW);

  // Moving a node takes the focus out of it: move the one without the focus.
  const swap = (first, second) => {
    if (first.compareDocumentPosition(second) & Node.DOCUMENT_POSITION_FOLLOWING) return;
    if (second.contains(document.activeElement)) layout.insertBefore(first, second);
    else first.after(second);
  };

  function arrange() {
    const narrow = media.matches;
    const streamOpen = Boolean(document.body.dataset.stream);
    if (narrow && streamOpen) swap(main, sidebar);
    else swap(sidebar, main);
    if (narrow) {
      if (actions.parentElement !== workspace) workspace.append(fireOptions, actions, exports);
    } else if (actions.parentElement !== head) {
      head.insertBefore(actions, editNet);
      head.insertBefore(exports, editNet);
      workspace.insertBefore(fireOptions, error);
    }
  }
  media.addEventListener("change", arrange);
  new MutationObserver(arrange).observe(document.body, { attributes: true, attributeFilter: ["data-stream"] });
  arrange();
}
