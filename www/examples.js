// The gallery: example nets shipped with the app (sources in examples/SOURCES.md).
import counter from "./examples/counter.json?raw";
import order from "./examples/order.json?raw";
import transfer from "./examples/transfer.json?raw";
import tictactoe from "./examples/tictactoe.jsonld?raw";
import bank from "./examples/bank.json?raw";
import { h } from "./dom.js";

export const examples = [
  { key: "counter", title: "Counter", blurb: "One place bounded by capacity 3: increment, decrement.", text: counter },
  { key: "order", title: "Order workflow", blurb: "Place, pay, ship: customer and warehouse roles.", text: order },
  {
    key: "transfer",
    title: "Money transfer",
    blurb: "Three accounts; move any amount, the total stays 175.",
    text: transfer,
  },
  {
    key: "bank",
    title: "Bank",
    blurb: "Open accounts with 100 each, transfer any amount between any two: no overdraft, the total is kept.",
    text: bank,
  },
  {
    key: "tictactoe",
    title: "Tic-tac-toe",
    blurb: "Players x and o take turns (pflow JSON-LD from go-pflow).",
    text: tictactoe,
  },
];

/** Fills the gallery list; `onPick(example)` runs when one is chosen. */
export function renderGallery(list, onPick) {
  list.replaceChildren(
    ...examples.map((ex) =>
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", className: "card", dataset: { example: ex.key } },
          h("strong", {}, ex.title),
          h("span", {}, ex.blurb),
        ),
      ),
    ),
  );
  list.addEventListener("click", (e) => {
    const button = e.target.closest("[data-example]");
    if (button) onPick(examples.find((ex) => ex.key === button.dataset.example));
  });
}
