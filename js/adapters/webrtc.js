// Peer to peer over a WebRTC data channel. One peer hosts the log (any
// create-only store: memoryStore(), or one that persists) and answers the
// other's store calls; both sync their ledgers through createOnlyTransport,
// the host over its store directly, the guest over peerStore(channel). The
// host can lose or withhold events, never forge them: they are signed and
// checked by the net on every pull.
import { createOnlyTransport, MAX_PAGE, TransportError } from "./create-only.js";

/** Characters per data-channel message; longer answers go in several frames. */
const FRAME_CHARS = 60000;
/** Frames of one message, at most (about 60 MB). */
const MAX_FRAMES = 1000;
/** Messages being reassembled at once; past it the oldest is dropped (a peer cannot grow it without bound). */
const MAX_PARTIAL = 64;
/** Milliseconds a call may wait for its answer. */
const CALL_TIMEOUT_MS = 30000;

function sendFramed(channel, id, message) {
  const text = JSON.stringify(message);
  const parts = Math.max(1, Math.ceil(text.length / FRAME_CHARS));
  for (let i = 0; i < parts; i++) {
    channel.send(JSON.stringify({ id, part: i, parts, data: text.slice(i * FRAME_CHARS, (i + 1) * FRAME_CHARS) }));
  }
}

/** Calls `onMessage(id, value)` for each whole message arriving on `channel`. */
function receiveFramed(channel, onMessage) {
  const partial = new Map();
  channel.addEventListener("message", (e) => {
    let frame;
    try {
      frame = JSON.parse(e.data);
    } catch {
      return; // not ours
    }
    const { id, part, parts, data } = frame ?? {};
    if (!Number.isSafeInteger(id) || !Number.isSafeInteger(parts) || parts < 1 || parts > MAX_FRAMES) return;
    if (!Number.isSafeInteger(part) || part < 0 || part >= parts || typeof data !== "string") return;
    const chunks = partial.get(id) ?? [];
    chunks[part] = data;
    if (chunks.filter((c) => c !== undefined).length < parts) {
      partial.set(id, chunks);
      if (partial.size > MAX_PARTIAL) partial.delete(partial.keys().next().value);
      return;
    }
    partial.delete(id);
    let value;
    try {
      value = JSON.parse(chunks.join(""));
    } catch {
      return;
    }
    onMessage(id, value);
  });
}

/**
 * A create-only store whose calls go to the peer at the other end of
 * `channel` (an open RTCDataChannel, or anything with send() and "message"
 * events), answered there by servePeerStore().
 */
export function peerStore(channel, { name = "peer", timeout = CALL_TIMEOUT_MS } = {}) {
  let next = 1;
  const waiting = new Map();
  receiveFramed(channel, (id, answer) => {
    const call = waiting.get(id);
    if (!call) return;
    waiting.delete(id);
    clearTimeout(call.timer);
    if (answer?.error) {
      const { status, code, message } = answer.error;
      call.reject(
        Number.isInteger(status)
          ? new TransportError(status, String(code), String(message))
          : new Error(String(message)),
      );
    } else {
      call.resolve(answer?.result);
    }
  });
  channel.addEventListener("close", () => {
    for (const call of waiting.values()) {
      clearTimeout(call.timer);
      call.reject(new Error("the peer's data channel closed"));
    }
    waiting.clear();
  });
  const call = (op, args) =>
    new Promise((resolve, reject) => {
      if (channel.readyState !== undefined && channel.readyState !== "open") {
        reject(new Error(`the peer's data channel is ${channel.readyState}`));
        return;
      }
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the peer did not answer ${op} within ${timeout} ms`));
      }, timeout);
      waiting.set(id, { resolve, reject, timer });
      sendFramed(channel, id, { op, args });
    });
  return {
    name,
    create: (key, value) => call("create", [key, value]),
    get: (key) => call("get", [key]),
    async list(prefix, after, limit) {
      // The host answers at most MAX_PAGE entries a call: ask again for the rest.
      const out = [];
      let from = after;
      while (out.length < limit) {
        const want = Math.min(MAX_PAGE, limit - out.length);
        const page = await call("list", [prefix, from, want]);
        if (!Array.isArray(page)) throw new Error("the peer answered list with something else than a list");
        out.push(...page);
        if (page.length < want) break;
        from = page[page.length - 1].key;
      }
      return out;
    },
  };
}

/** Answers the store calls of the peer at the other end of `channel` from `store`. */
export function servePeerStore(channel, store) {
  receiveFramed(channel, async (id, request) => {
    const { op, args } = request ?? {};
    const str = (v) => typeof v === "string";
    let answer;
    try {
      if (op === "create" && Array.isArray(args) && str(args[0]))
        answer = { result: await store.create(args[0], args[1]) };
      else if (op === "get" && Array.isArray(args) && str(args[0])) answer = { result: await store.get(args[0]) };
      else if (
        op === "list" &&
        Array.isArray(args) &&
        str(args[0]) &&
        str(args[1]) &&
        Number.isSafeInteger(args[2]) &&
        args[2] > 0
      ) {
        answer = { result: await store.list(args[0], args[1], Math.min(args[2], MAX_PAGE)) };
      } else answer = { error: { status: 400, code: "BAD_REQUEST", message: `unknown call ${String(op)}` } };
    } catch (e) {
      answer = { error: { status: e?.status, code: e?.code, message: String(e?.message ?? e) } };
    }
    if (channel.readyState === undefined || channel.readyState === "open") sendFramed(channel, id, answer);
  });
}

/** `ledger.sync({transport: peerTransport(channel)})`: sync with the log the peer hosts. */
export function peerTransport(channel, options = {}) {
  return createOnlyTransport(peerStore(channel, options), { name: options.name ?? "peer" });
}

/**
 * Opens a WebRTC data channel to a peer. `signal` is any channel the app has
 * to the other side (a WebSocket, BroadcastChannel, a QR code...):
 * `{send(message), subscribe(callback) -> unsubscribe}`, carrying JSON-able
 * messages. One side passes `initiator: true`. Resolves with the open channel.
 *
 * Either side may start first. A signalling channel such as a
 * BroadcastChannel keeps nothing for a listener that is not there yet, so
 * the answering side says `hello` once it listens, and the initiator then
 * sends its offer and candidates again (until it has an answer); the
 * answering side takes the first offer and each candidate once.
 */
export function connectPeer(
  signal,
  { initiator = false, label = "petrichain", rtc = {}, timeout = CALL_TIMEOUT_MS } = {},
) {
  const pc = new RTCPeerConnection(rtc);
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const early = []; // candidates that came before the remote description
    const seen = new Set(); // candidates taken (a late peer's hello makes the initiator repeat them)
    const addCandidate = (c) => {
      const key = JSON.stringify(c);
      if (seen.has(key)) return;
      seen.add(key);
      return pc.remoteDescription ? pc.addIceCandidate(c) : early.push(c);
    };
    let described = false; // the remote description is being set or set: a repeat of it is ignored
    const sent = []; // the initiator's offer and candidates so far, sent again on a hello
    const send = (m) => {
      if (initiator) sent.push(m);
      signal.send(m);
    };
    const addEarly = async () => {
      for (const c of early.splice(0)) await pc.addIceCandidate(c);
    };
    const timer = setTimeout(() => fail(new Error(`no data channel within ${timeout} ms`)), timeout);
    const fail = (e) => {
      clearTimeout(timer);
      unsubscribe();
      pc.close();
      reject(e);
    };
    const ready = (channel) => {
      channel.addEventListener("open", () => {
        clearTimeout(timer);
        unsubscribe();
        channel.peerConnection = pc;
        resolve(channel);
      });
    };
    pc.addEventListener("icecandidate", (e) => {
      if (e.candidate) send({ type: "candidate", candidate: e.candidate.toJSON() });
    });
    unsubscribe = signal.subscribe(async (m) => {
      try {
        if (m?.type === "offer" && !initiator) {
          if (described) return;
          described = true;
          await pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
          await addEarly();
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          signal.send({ type: "answer", sdp: answer.sdp });
        } else if (m?.type === "answer" && initiator) {
          if (described) return;
          described = true;
          await pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
          await addEarly();
        } else if (m?.type === "hello" && initiator) {
          // The peer listens now: what it missed, again.
          if (!described) for (const before of sent) signal.send(before);
        } else if (m?.type === "candidate" && m.candidate) {
          await addCandidate(m.candidate);
        }
      } catch (e) {
        fail(e);
      }
    });
    if (initiator) {
      ready(pc.createDataChannel(label));
      pc.createOffer()
        .then((offer) => pc.setLocalDescription(offer).then(() => send({ type: "offer", sdp: offer.sdp })))
        .catch(fail);
    } else {
      pc.addEventListener("datachannel", (e) => ready(e.channel));
      signal.send({ type: "hello" });
    }
  });
}
