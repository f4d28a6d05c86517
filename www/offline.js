// Registers the service worker (public/sw.js) in a built app and asks it to
// cache this build's files; <body data-offline="ready"> once they are cached.
import { $ } from "./dom.js";

export async function registerServiceWorker() {
  const fact = $("offline-state");
  if (!("serviceWorker" in navigator) || !import.meta.env.PROD) {
    fact.textContent = "only in a built app (npm start)";
    return;
  }
  try {
    await navigator.serviceWorker.register("./sw.js");
    const registration = await navigator.serviceWorker.ready;
    const { port1, port2 } = new MessageChannel();
    const reply = new Promise((resolve) => (port1.onmessage = (e) => resolve(e.data)));
    registration.active.postMessage({ type: "precache" }, [port2]);
    const result = await reply;
    if (!result.ok) throw new Error(result.error);
    document.body.dataset.offline = "ready";
    fact.textContent = `ready (${result.files} files cached)`;
  } catch (err) {
    document.body.dataset.offline = "unavailable";
    fact.textContent = `not available: ${err.message}`;
  }
}
