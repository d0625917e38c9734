import { unwatchFile } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import { parse as parseUrl } from 'node:url';
import type BrowserChannel from 'browserchannel/dist/server.js';
import type { ConnectionSink, ConnectionSocket, DrainOptions, PrimusRequest, TransformerContext, TransformerServer } from '@primus/core/contract';
import { browserChannel, forgetSessionId, startedTimers, withParsedUrl, type ParsedRequestUrl } from './browserchannel-server';

type Session = BrowserChannel.Session;

// Outside production, browserchannel's server polls its bundled client file every 5 s so it can
// serve a rebuilt copy while browserchannel itself is being developed. Nothing here changes that
// file; stop the polling.
try {
  unwatchFile(require.resolve('browserchannel/dist/bcsocket.js'));
} catch {
  // A browserchannel without that file does not watch it either.
}

/**
 * How long a shutdown that keeps the HTTP server (`destroy({ close: false })`) waits for clients
 * to collect their `stop`. A client between two polls reopens its back channel at once.
 */
const DRAIN_MS = 1000;

/** The headers browserchannel sends with its own error answers. */
const ERROR_HEADERS = {
  'Content-Type': 'text/plain',
  'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
};

/** One of browserchannel's outgoing arrays (a message), kept in the session until the client acknowledges it. */
interface OutgoingArray {
  readonly id: number;
}

/** The core's handle on one BrowserChannel session. */
class BrowserChannelConnectionSocket implements ConnectionSocket {
  /** Bytes of every message the core has queued on the session, acknowledged or not. */
  private queued = 0;
  /**
   * The core's messages that may still be in the session, oldest first, two numbers each (the
   * message's array id and `queued` before it) from `start` to `end`. Kept here rather than on
   * browserchannel's array objects: a property added to those after they are built gives each one
   * a property store of its own (40 bytes per message). The array is reused, not shrunk, so
   * marking a message allocates nothing once it has grown to what the client holds at a time.
   */
  private readonly marks: number[] = [];
  private start = 0;
  private end = 0;

  constructor(
    private readonly session: Session,
    private readonly stopping: () => void,
  ) {}

  /** BrowserChannel carries JSON values: the transformer is `textOnly`, so the core sends strings. */
  send(text: string): void {
    const session = this.session;
    // A closed session drops what it is given.
    if (session.state === 'closed') return;
    const id = session.send(text);
    const marks = this.marks;
    if (this.end === marks.length && this.start > 0) {
      marks.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    marks[this.end] = id;
    marks[this.end + 1] = this.queued;
    this.end += 2;
    this.queued += Buffer.byteLength(text);
  }

  /**
   * What the client has not acknowledged: browserchannel keeps every message until the client's
   * next request says (with `AID`) that it has arrived, and sends the unacknowledged ones again
   * on each new back channel. That is exactly what the session holds for this client: messages
   * waiting for a back channel and those written to one but not yet confirmed alike. The core's
   * oldest unacknowledged message tells how much of what it queued is still held.
   */
  get bufferedAmount(): number {
    const arrays = (this.session as unknown as SessionInternals)._outgoingArrays;
    const marks = this.marks;
    // browserchannel forgets acknowledged arrays from the front and numbers them in order: the
    // core's messages older than the session's oldest array have been acknowledged. (Arrays
    // browserchannel queues itself, the session's opening array, `noop` keep-alives and `stop`,
    // have no mark.)
    const oldest = arrays.length > 0 ? arrays[0]!.id : Infinity;
    let start = this.start;
    while (start < this.end && marks[start]! < oldest) start += 2;
    if (start < this.end) {
      this.start = start;
      return this.queued - marks[start + 1]!;
    }
    this.start = this.end = 0;
    // Let a session that once held a great many messages give that memory back.
    if (marks.length > 4096) marks.length = 0;
    return 0;
  }

  close(): void {
    const session = this.session;
    this.stopping();
    // `stop` tells the client not to come back. It is written with the queued messages on the
    // client's next back channel; closing the session before that would drop them all.
    session.stop(() => session.close());
  }
}

const last = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[value.length - 1] : value);

/**
 * How far ahead of the next expected request id (`RID`) a forward-channel request may be. A
 * BrowserChannel client has one forward-channel request in flight and retries it with the same
 * id, so it is never more than one ahead; the margin covers a terminate request overtaking it.
 */
export const RID_WINDOW = 16;
/** How far ahead of the next expected map (`ofs`) a request's maps may start. */
export const MAP_WINDOW = 10000;

/** A decimal counter as BrowserChannel clients send it: digits only, a safe integer. */
function counter(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * A replacement for browserchannel's `order()`, which puts callbacks in a plain array at index
 * `seq - base` and drains it with `shift()`. A request id or map offset a few billion ahead makes
 * that array billions long, and the next `shift()` blocks the process for minutes; a non-numeric
 * one is queued under `NaN` and its data silently lost. This one keeps waiting callbacks in a Map,
 * takes only numbers within `window` of the next expected one, and tells the transformer where
 * it stands (`next`).
 */
interface Sequencer {
  (seq: unknown, callback?: () => void): void;
  /** The next sequence number it waits for. */
  readonly next: number;
}

function sequencer(start: number, playOld: boolean, window: number): Sequencer {
  let next = start;
  const waiting = new Map<number, () => void>();
  const sequence = ((seq: unknown, callback: () => void = noop) => {
    const n = typeof seq === 'number' ? seq : counter(seq);
    if (n === undefined || !Number.isSafeInteger(n)) return;
    if (n < next) {
      if (playOld) callback();
      return;
    }
    if (n - next >= window) return;
    if (n === next && waiting.size === 0) {
      // The usual case: the one it waits for, with nothing held. It runs without passing through
      // the Map, whose delete reallocates its table each time it empties (about 150 bytes).
      next++;
      callback();
    } else {
      waiting.set(n, callback);
    }
    for (let run = waiting.get(next); run; run = waiting.get(next)) {
      waiting.delete(next);
      next++;
      run();
    }
  }) as Sequencer;
  Object.defineProperty(sequence, 'next', { get: () => next });
  return sequence;
}

const noop = (): void => {};

/** The private parts of a browserchannel session that the transformer uses or replaces. */
interface SessionInternals {
  _ridBuffer: Sequencer;
  _mapBuffer: Sequencer;
  /** Messages not yet acknowledged by the client, oldest first. */
  readonly _outgoingArrays: readonly OutgoingArray[];
}

/** The key of a map's field in a forward-channel body: `req<N>_<field>`. */
const MAP_KEY = /^req(\d+)_/;

/**
 * The map number `N` of a key `MAP_KEY` matches, or -1 for any other key. Read without the
 * regular expression, whose match (an array and two strings) would be allocated for every key:
 * a body has a key per message.
 */
function mapNumber(key: string): number {
  if (!key.startsWith('req')) return -1;
  let value = 0;
  let i = 3;
  for (; i < key.length; i++) {
    const digit = key.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return i > 3 && key.charCodeAt(i) === 95 ? value : -1;
}

/**
 * Decode and check a forward-channel body the way browserchannel reads it (`decodeData` and
 * `transformData`), before browserchannel sees it. Returns the decoded body, or a sentence that
 * says what is wrong with it. browserchannel trusts `count` and the `req<N>_` keys: a `count` of a
 * hundred million, or one key `req3000000000_x`, makes it loop that many times.
 */
function decodeForward(contentType: string | undefined, text: string, nextMap: number): { body: unknown } | { error: string } {
  if (contentType === 'application/json') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { error: 'the body is not valid JSON' };
    }
    const { ofs, data } = (body ?? {}) as { ofs?: unknown; data?: unknown };
    if (!body || typeof body !== 'object' || !Array.isArray(data)) return { error: 'a JSON body must be { ofs, data: [...] }' };
    if (!(Number.isSafeInteger(ofs) && (ofs as number) >= 0 && (ofs as number) - nextMap < MAP_WINDOW)) return { error: 'ofs is out of range' };
    return { body };
  }
  const body = parseQuery(text, '&', '=', { maxKeys: 0 });
  const count = counter(body.count);
  if (count === undefined) return { error: 'count must be a number' };
  if (count === 0) return { body };
  const ofs = counter(body.ofs);
  if (ofs === undefined || ofs - nextMap >= MAP_WINDOW) return { error: 'ofs is missing or out of range' };
  const seen = new Set<number>();
  for (const key of Object.keys(body)) {
    const index = mapNumber(key);
    if (index === -1) continue;
    if (index >= count) return { error: `map ${MAP_KEY.exec(key)![1]} is beyond count` };
    seen.add(index);
  }
  if (seen.size !== count) return { error: 'count does not match the maps sent' };
  return { body };
}

/**
 * The path and query of a request, which the checks here and browserchannel's middleware both
 * read (see `withParsedUrl`). The core parsed the URL of every request it hands over (`uri`,
 * `query`: absolute-form URLs, fragments and backslashes read as the legacy `url.parse` reads
 * them); a URL that middleware rewrote since is parsed again, as browserchannel would.
 */
function parsedUrlOf(req: IncomingMessage): ParsedRequestUrl {
  const request = req as Partial<PrimusRequest>;
  if (request.uri && request.query && req.url === request.originalUrl) {
    return { pathname: request.uri.pathname, query: request.query as ParsedUrlQuery };
  }
  const parsed = parseUrl(req.url ?? '/', true);
  return { pathname: parsed.pathname ?? '/', query: parsed.query };
}

function answer(res: ServerResponse, status: number, reason: string, body: string): void {
  res.writeHead(status, reason, ERROR_HEADERS);
  res.end(body);
}

function tooLarge(req: IncomingMessage, res: ServerResponse, maxLength: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // The rest of the body is not read: close the connection once the answer is out.
  req.pause();
  res.writeHead(413, { ...ERROR_HEADERS, Connection: 'close' });
  res.end(`Request body larger than ${maxLength} bytes`, () => req.socket.destroy());
}

/** Why a request was refused: the heading of the answer and the detail for the log. */
interface Problem {
  status: string;
  detail: string;
}

/**
 * Check the counters of a `<pathname>/bind` request before browserchannel uses them: `RID` orders
 * forward-channel requests and terminations, `AID` acknowledges arrays, `TYPE` picks what a GET
 * does (browserchannel leaves a GET of any other type unanswered).
 */
function checkBind(method: string | undefined, query: ParsedUrlQuery, entry: Entry | undefined): Problem | undefined {
  // browserchannel answers other versions itself.
  if (query.VER !== '8') return undefined;
  const aid = query.AID;
  if (aid !== undefined && !(typeof aid === 'string' && /^-?\d{1,15}$/.test(aid))) return { status: 'Invalid AID', detail: `AID ${JSON.stringify(aid)} is not a number` };
  const type = query.TYPE;
  if (method === 'GET' && type !== 'xmlhttp' && type !== 'html' && type !== 'terminate') {
    return { status: 'Unknown TYPE', detail: `TYPE ${JSON.stringify(type)} is not xmlhttp, html or terminate` };
  }
  if (method === 'POST' || (method === 'GET' && type === 'terminate')) {
    const rid = counter(query.RID);
    if (rid === undefined) return { status: 'Invalid RID', detail: `RID ${JSON.stringify(query.RID)} is not a number` };
    if (entry && rid - entry.rids.next >= RID_WINDOW) return { status: 'Invalid RID', detail: `RID ${rid} is too far ahead of ${entry.rids.next}` };
  }
  return undefined;
}

/** What the transformer remembers about a session until browserchannel closes it. */
interface Entry {
  session: Session;
  /** The affinity token (`a`) the session was opened with, as JSON. */
  token: string;
  /** The core ended the connection; the session waits for its client to collect the `stop`. */
  stopping: boolean;
  /** The session's request-id and map sequencers (see `sequencer`). */
  rids: Sequencer;
  maps: Sequencer;
  /** Where the session's events are reported, once connected. */
  sink?: ConnectionSink;
}

/** The server half: browserchannel's middleware behind Primus's HTTP handling. */
export function createServer(context: TransformerContext): TransformerServer {
  const { options, logger } = context;
  const maxLength = options.maxLength;
  const sessions = new Map<string, Entry>();
  let closing = false;
  let drained: (() => void) | undefined;

  const stoppingCount = (): number => {
    let count = 0;
    for (const entry of sessions.values()) if (entry.stopping) count++;
    return count;
  };

  const bindPath = (options.pathname === '/' ? '' : options.pathname) + '/bind';
  const testPath = (options.pathname === '/' ? '' : options.pathname) + '/test';
  /**
   * Network tests in progress: browserchannel's timer that ends each response. It is cleared when
   * the client goes away, and the response ended at once when the server closes.
   */
  const networkTests = new Map<ServerResponse, ReturnType<typeof setTimeout>[]>();

  const middleware = browserChannel({ base: options.pathname }, (session, req) => {
    // The opening request's RID was checked before browserchannel saw it.
    const internals = session as unknown as SessionInternals;
    internals._ridBuffer = sequencer(counter(last(session.query.RID)) ?? 0, true, RID_WINDOW);
    internals._mapBuffer = sequencer(0, false, MAP_WINDOW);
    const entry: Entry = {
      session,
      token: JSON.stringify(session.query.a ?? null),
      stopping: false,
      rids: internals._ridBuffer,
      maps: internals._mapBuffer,
    };
    const sink = context.connect(
      {
        headers: session.headers,
        // The request's socket, not `session.address`: it knows the port too.
        address: req.socket,
        // The opening request's query: the client's extraParams (its query, `_primuscb`, `ping`,
        // `pong`) and BrowserChannel's own parameters.
        query: { ...session.query },
        id: session.id,
        request: req,
      },
      new BrowserChannelConnectionSocket(session, () => {
        entry.stopping = true;
        session.removeListener('message', onMessage);
      }),
    );
    const onMessage = (message: unknown): void => {
      // Primus clients send strings; a BrowserChannel client that sent an object (sendMap JSON)
      // is heard as that object's JSON text.
      sink.data(typeof message === 'string' ? message : JSON.stringify(message));
    };
    const onClose = (reason?: string): void => {
      sessions.delete(session.id);
      forgetSessionId(session.id);
      session.removeListener('message', onMessage);
      session.removeListener('close', onClose);
      logger.debug(`browserchannel: session ${session.id} closed: ${reason ?? 'closed by the server'}`);
      // Nothing happens when the core itself ended the session.
      sink.end();
      if (drained && stoppingCount() === 0) drained();
    };
    entry.sink = sink;
    sessions.set(session.id, entry);
    session.on('message', onMessage);
    session.on('close', onClose);
  });

  /**
   * Whether a request that names a session carries the token that session was opened with. The
   * token is encoded only when the request names an open session (`SID` or `OSID`): network tests
   * and a new client's opening request name none.
   */
  function sameClient(query: ParsedUrlQuery, entry: Entry | undefined): boolean {
    const oldId = last(query.OSID);
    const old = oldId === undefined ? undefined : sessions.get(oldId);
    if (!entry && !old) return true;
    const token = JSON.stringify(query.a ?? null);
    return (!entry || entry.token === token) && (!old || old.token === token);
  }

  /**
   * Hand a request to browserchannel, answering 400 if it throws on it. A request of a session
   * carries the id of the last message its client received (`AID`), and browserchannel forgets
   * what it acknowledges before it returns: the core hears of it.
   */
  function run(req: IncomingMessage, res: ServerResponse, url: ParsedRequestUrl, entry?: Entry): void {
    try {
      const handle = (): void =>
        withParsedUrl(req, url, () =>
          middleware(req, res, () => {
            res.writeHead(404, { 'Content-Type': 'text/plain' });
            res.end('Not Found');
          }),
        );
      // Only a network test starts a timer for its response; a session's timers are its own, so
      // other requests are not watched for them.
      if (url.pathname !== testPath) handle();
      else {
        const timers = startedTimers(handle);
        if (timers.length > 0) {
          networkTests.set(res, timers);
          res.once('close', () => {
            for (const timer of timers) clearTimeout(timer);
            networkTests.delete(res);
          });
        }
      }
      entry?.sink?.drain();
    } catch (err) {
      // browserchannel throws on some malformed requests (a back-channel request without a
      // session id, for one); answer it instead of letting the server crash.
      logger.warn('browserchannel: rejected a malformed request', req.method, req.url, err);
      if (!res.headersSent) answer(res, 400, 'Bad Request', 'Bad Request');
      else res.destroy();
    }
  }

  /** Answer a request browserchannel would mishandle: 400, in browserchannel's own format. */
  function refuse(req: IncomingMessage, res: ServerResponse, problem: Problem): void {
    logger.warn(`browserchannel: refused ${req.method} ${req.url}: ${problem.detail}`);
    answer(res, 400, 'Bad Request', `<html><body><h1>${problem.status}</h1></body></html>`);
  }

  return {
    request(req, res) {
      const url = parsedUrlOf(req);
      const query = url.query;
      const sid = last(query.SID);
      const entry = sid === undefined ? undefined : sessions.get(sid);
      // browserchannel's session ids come from Math.random; a request that names a session must
      // also carry the random token its client opened it with, or it is treated as a stranger.
      if (!sameClient(query, entry)) {
        answer(res, 400, 'Unknown SID', '<html><body><h1>Unknown SID</h1></body></html>');
        return;
      }
      if (closing && !entry) {
        answer(res, 503, 'Service Unavailable', 'Shutting down');
        return;
      }
      const bind = url.pathname === bindPath;
      const problem = bind ? checkBind(req.method, query, entry) : undefined;
      if (problem) {
        refuse(req, res, problem);
        return;
      }
      if (req.method !== 'POST') {
        run(req, res, url, entry);
        return;
      }
      // browserchannel buffers forward-channel bodies without a limit. An oversized one closes
      // its session, as an oversized frame closes a WebSocket.
      let rejected = false;
      const reject = (): void => {
        rejected = true;
        entry?.session.close('Request body too large');
        tooLarge(req, res, maxLength);
      };
      if (Number(req.headers['content-length']) > maxLength) {
        reject();
        return;
      }
      // A request for a session that does not exist is answered before any body is read.
      if (!bind || (query.SID !== undefined && !entry)) {
        let received = 0;
        req.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxLength && !rejected) reject();
        });
        run(req, res, url);
        return;
      }
      // The forward channel: the body is read and checked here, and handed to browserchannel as
      // `req.body`, which it takes instead of reading the request itself.
      const chunks: Buffer[] = [];
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        if (rejected) return;
        received += chunk.length;
        if (received > maxLength) {
          chunks.length = 0;
          reject();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (rejected) return;
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const decoded = decodeForward(req.headers['content-type'], body.toString('utf8'), entry?.maps.next ?? 0);
        if ('error' in decoded) {
          refuse(req, res, { status: 'Bad data', detail: decoded.error });
          return;
        }
        (req as IncomingMessage & { body?: unknown }).body = decoded.body;
        run(req, res, url, entry);
      });
    },
    /**
     * Shutdown, while requests are still routed here: with the HTTP server still listening, let
     * clients between two polls come back for their `stop` first (for at most DRAIN_MS).
     */
    drain(drainOptions: DrainOptions) {
      closing = true;
      if (drainOptions.close || !context.server?.listening || stoppingCount() === 0) return undefined;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => drained?.(), DRAIN_MS);
        drained = () => {
          clearTimeout(timer);
          drained = undefined;
          resolve();
        };
      });
    },
    close() {
      // A network test still waiting for its last byte is ended now; its client reconnects or
      // gives up like any client of a server that went away.
      for (const [res, timers] of networkTests) {
        for (const timer of timers) clearTimeout(timer);
        res.end();
      }
      networkTests.clear();
      // Sparks ended by the shutdown queued a `stop` that browserchannel writes on the next tick;
      // close what is left only after that, or clients with an open back channel would miss it.
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          // Each session's `close` ends its spark if that is still open.
          middleware.close();
          resolve();
        }),
      );
    },
  };
}
