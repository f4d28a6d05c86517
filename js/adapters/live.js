// Live updates for a JS transport: sync as soon as the backend says a stream
// moved (CouchDB `_changes`), or as polling with backoff finds it (the other
// adapters' `watch`). Syncs never overlap: a change during a sync runs one more.

/**
 * Runs `sync.now()` whenever `transport.watch` reports a change of one of
 * `streams`. Returns stop(). Errors of a sync are left to `sync.on("error")`.
 */
export function liveSync(sync, transport, streams, options) {
  if (typeof transport?.watch !== "function") throw new TypeError("the transport has no watch()");
  let running = false;
  let again = false;
  const kick = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await sync.now().catch(() => {});
      } while (again);
    } finally {
      running = false;
    }
  };
  return transport.watch(streams, kick, options);
}
