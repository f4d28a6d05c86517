// Types of the sync adapters (docs/backends.md).
import type { SyncHandle, SyncTransport } from "../../pkg/petrichain.js";

/** One entry of a store listing; `value` when the listing carries it (else it is read with `get`). */
export interface StoreEntry {
  key: string;
  value?: unknown;
}

/**
 * A store that can create an object only if its key is free: all the
 * conditional append needs (docs/backends.md, "The recipe").
 */
export interface CreateOnlyStore {
  /** Default backend name of a transport over it. */
  name?: string;
  /** Creates `key` with `value`; `true` if created, `false` if the key was taken. */
  create(key: string, value: unknown): Promise<boolean>;
  /** The value of `key`, or `null` when absent. */
  get(key: string): Promise<unknown | null>;
  /** Keys greater than `after` starting with `prefix`, sorted, at most `limit`; fewer only when no more exist. */
  list(prefix: string, after: string, limit: number): Promise<StoreEntry[]>;
}

/** Options of `watch`: polling every `interval` ms after a change, doubling while idle up to `maxInterval`. */
export interface WatchOptions {
  interval?: number;
  maxInterval?: number;
  /** CouchDB `_changes`: first and largest wait after a failed long-poll, ms. */
  backoff?: number;
  maxBackoff?: number;
}

/** A transport over a create-only store; `watch` calls `onChange(stream)` when a stream moves. Returns stop(). */
export interface CreateOnlyTransport extends SyncTransport {
  name: string;
  watch(streams: string[], onChange: (stream: string) => void, options?: WatchOptions): () => void;
}

/** Thrown by a store for a refusal of the backend: the sync client reports `REMOTE_ERROR` with this status (not retried unless 5xx or 429). */
export class TransportError extends Error {
  constructor(status: number, code: string, message: string);
  status: number;
  code: string;
}

/** The conditional append of the sync protocol over `store`. */
export function createOnlyTransport(store: CreateOnlyStore, options?: { name?: string }): CreateOnlyTransport;
/** A create-only store in memory (tests; the host of a peer-to-peer log). */
export function memoryStore(name?: string): CreateOnlyStore;
/** Events per pull answer, at most. */
export const MAX_PAGE: number;
/** The key layout: `models/{id}`, `streams/{stream}`, `events/{stream}/{seq, 16 digits}` (segments percent-encoded). */
export const keys: {
  model(id: string): string;
  stream(stream: string): string;
  streamsPrefix: string;
  events(stream: string): string;
  event(stream: string, seq: number): string;
};
/** Polls `headOf(stream)` with backoff and calls `onChange` when a head moved. Returns stop(). */
export function pollHeads(
  streams: string[],
  onChange: (stream: string) => void,
  interval: number,
  maxInterval: number,
  headOf: (stream: string) => Promise<{ seq: number; hash: string }>,
): () => void;

/** Common options of the HTTP adapters. */
export interface HttpAdapterOptions {
  /** Sent on every request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** The fetch to use (default: globalThis.fetch at call time). */
  fetch?: typeof fetch;
  /** Backend name (sync state is kept per name). Default: the URL. */
  name?: string;
}

/** A REST collection, json-server style: POST creates `{id, prefix, value}`, GET `{url}/{id}` reads, a query lists. */
export interface RestOptions extends HttpAdapterOptions {
  url: string;
  /** The query string of a listing (default: `prefix=..&id_gte=..&_sort=id&_limit=..`). */
  query?: (prefix: string, after: string, limit: number) => string;
}
export function restStore(options: RestOptions): CreateOnlyStore;
export function restTransport(options: RestOptions): CreateOnlyTransport;

/** A CouchDB or PouchDB-server database: `url` is the database's URL. */
export interface CouchOptions extends HttpAdapterOptions {
  url: string;
}
export function couchStore(options: CouchOptions): CreateOnlyStore & {
  watch(streams: string[], onChange: (stream: string) => void, options?: WatchOptions): () => void;
};
/** CouchDB transport; its `watch` long-polls `_changes`. */
export function couchTransport(options: CouchOptions): CreateOnlyTransport;

/** S3-compatible object storage honouring `If-None-Match: *` (path-style requests, SigV4). */
export interface S3Options extends HttpAdapterOptions {
  endpoint: string;
  bucket: string;
  /** Default "us-east-1". */
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Put before every key (several ledgers in one bucket). */
  prefix?: string;
}
export function s3Store(options: S3Options): CreateOnlyStore;
export function s3Transport(options: S3Options): CreateOnlyTransport;
/** Signs an S3 request with AWS Signature V4; returns the headers to send. */
export function signV4(request: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  payloadHash: string;
  region: string;
  service?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  date?: Date;
}): Promise<Record<string, string>>;

/** What peer-to-peer calls travel over: an open RTCDataChannel, or anything like it. */
export interface PeerChannel {
  send(data: string): void;
  readyState?: string;
  addEventListener(type: "message", listener: (e: { data: string }) => void): void;
  addEventListener(type: "close", listener: () => void): void;
}
/** The app's signalling channel to the other peer (WebSocket, BroadcastChannel, ...). */
export interface PeerSignal {
  send(message: unknown): void;
  subscribe(callback: (message: unknown) => void): () => void;
}
/** A store whose calls are answered by the peer's `servePeerStore`. */
export function peerStore(channel: PeerChannel, options?: { name?: string; timeout?: number }): CreateOnlyStore;
/** Answers the peer's store calls from `store`. */
export function servePeerStore(channel: PeerChannel, store: CreateOnlyStore): void;
/** Sync with the log the peer hosts. */
export function peerTransport(channel: PeerChannel, options?: { name?: string; timeout?: number }): CreateOnlyTransport;
/** Opens a WebRTC data channel to a peer through the app's signalling channel; one side is the `initiator`, either may start first. */
export function connectPeer(
  signal: PeerSignal,
  options?: { initiator?: boolean; label?: string; rtc?: RTCConfiguration; timeout?: number },
): Promise<RTCDataChannel>;

/** `sync.now()` whenever `transport.watch` reports a change of `streams` (never two at once). Returns stop(). */
export function liveSync(
  sync: SyncHandle,
  transport: { watch: CreateOnlyTransport["watch"] },
  streams: string[],
  options?: WatchOptions,
): () => void;
