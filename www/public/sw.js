// The app's service worker: after the first visit the app works offline.
//
// - On install (and whenever the page asks with {type: "precache"}), it reads
//   precache.json, the list of files the build produced, caches the missing
//   ones and drops cached files no longer listed.
// - Pages (navigations) are network-first, so a new build is picked up when
//   online, and fall back to the cached page offline.
// - The built files are cache-first (their names carry a content hash).
// - Anything else (the sync API, other origins) goes to the network untouched.
const CACHE = "petrichain-app";
const scope = new URL(self.registration.scope);
const absolute = (file) => new URL(file, scope).href;

async function precache() {
  const cache = await caches.open(CACHE);
  const listUrl = absolute("precache.json");
  let response;
  try {
    response = await fetch(listUrl, { cache: "no-store" });
    if (!response.ok) throw new Error(`precache.json: HTTP ${response.status}`);
  } catch (err) {
    // Offline: fine if the list seen last time is complete in the cache.
    const list = await cache.match(listUrl);
    if (!list) throw err;
    const { files } = await list.json();
    const missing = [];
    for (const f of files) if (!(await cache.match(absolute(f), { ignoreVary: true }))) missing.push(f);
    if (missing.length) throw new Error(`offline, and ${missing.length} files are not cached`);
    return files.length;
  }
  const { files } = await response.clone().json();
  const wanted = new Set(files.map(absolute));
  const have = new Set((await cache.keys()).map((r) => r.url));
  // The page itself is refetched every time (it names the current build's files).
  await Promise.all(
    [...wanted]
      .filter((url) => !have.has(url) || url === scope.href)
      .map(async (url) => {
        const r = await fetch(url, { cache: "no-cache" });
        if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
        await cache.put(url, r);
      }),
  );
  await cache.put(listUrl, response);
  wanted.add(listUrl);
  await Promise.all([...have].filter((url) => !wanted.has(url)).map((url) => cache.delete(url)));
  return files.length;
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("message", (event) => {
  if (event.data?.type !== "precache") return;
  const port = event.ports[0];
  event.waitUntil(
    precache().then(
      (files) => port?.postMessage({ ok: true, files }),
      (err) => port?.postMessage({ ok: false, error: String(err) }),
    ),
  );
});

async function networkFirstPage(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(scope.href, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(scope.href, { ignoreVary: true });
    if (cached) return cached;
    throw err;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  // By URL: a servers' `Vary: Origin` must not hide the copy from a crossorigin <script>.
  const cached = await cache.match(request.url, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request.url, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirstPage(request));
    return;
  }
  const path = url.pathname.slice(scope.pathname.length);
  if (path.startsWith("assets/")) event.respondWith(cacheFirst(request));
});
