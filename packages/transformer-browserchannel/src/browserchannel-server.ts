import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { ParsedUrlQuery } from 'node:querystring';
import type BrowserChannel from 'browserchannel/dist/server.js';

/** The id generator `hat.rack()` returns: it remembers every id it handed out in `hats`. */
type Rack = ((data?: unknown) => string) & { hats: Record<string, unknown> };

// browserchannel's server names its sessions with `require('hat').rack(40, 36)`, a generator that
// keeps every id it ever returned in an object (`rack.hats`) so as never to repeat one, and never
// forgets them: each session leaves its id behind (about 120 bytes) for the life of the process.
// The rack is private to browserchannel's module, so it is caught here while that module creates
// it, and `forgetSessionId()` removes an id once its session has closed. A live session's id stays
// in the rack, so ids are still never shared by two open sessions.
const fromBrowserchannel = createRequire(require.resolve('browserchannel/dist/server.js'));
const hat = fromBrowserchannel('hat') as { rack: (...args: unknown[]) => Rack };
const racks: Rack[] = [];
const rack = hat.rack;
hat.rack = function caught(this: unknown, ...args: unknown[]): Rack {
  const created = rack.apply(this, args);
  racks.push(created);
  return created;
};

// browserchannel's middleware starts every request with `url.parse(req.url, true)`, a function it
// takes from the `url` module when its own module is evaluated. The core has already parsed the
// URL of every request it hands over, and the transformer's checks read that same parse; so
// browserchannel is given, while its module is evaluated here, a `parse` that returns what
// `withParsedUrl()` hands it for the request in progress, and parses like `url.parse` otherwise.
const url = fromBrowserchannel('url') as typeof import('node:url');
const urlParse = url.parse;

/** The path and query of a request, as browserchannel reads them from its URL. */
export interface ParsedRequestUrl {
  pathname: string;
  query: ParsedUrlQuery;
}

let handed: { url: string; parsed: ParsedRequestUrl } | undefined;

function parseForBrowserchannel(this: unknown, ...args: unknown[]): unknown {
  const current = handed;
  if (current && args[0] === current.url && args[1] === true && args.length === 2) return current.parsed;
  return (urlParse as (...a: unknown[]) => unknown).apply(this, args);
}

function load(): typeof BrowserChannel {
  url.parse = parseForBrowserchannel as typeof url.parse;
  try {
    return fromBrowserchannel('./server.js') as typeof BrowserChannel;
  } finally {
    hat.rack = rack;
    url.parse = urlParse;
  }
}

/** Run `fn` (which calls browserchannel's middleware with `req`) with `parsed` as its URL's parse. */
export function withParsedUrl<T>(req: IncomingMessage, parsed: ParsedRequestUrl, fn: () => T): T {
  const previous = handed;
  handed = { url: req.url ?? '/', parsed };
  try {
    return fn();
  } finally {
    handed = previous;
  }
}

/** browserchannel's server middleware factory. */
export const browserChannel = load();

// browserchannel answers the second request of a client's network test (`<base>/test` without
// `MODE=init`) with `11111` at once and `2` two seconds later, from a timer it keeps nowhere: the
// timer outlives a client that went away and a server that was closed, and holds the process open
// until it fires. browserchannel takes its timer functions from `_setTimerMethods()`; the
// `setTimeout` given here is the global one, except that it also hands the timers started inside
// `startedTimers()` to its caller, who can then clear them.
let started: ReturnType<typeof setTimeout>[] | undefined;
browserChannel._setTimerMethods({
  setTimeout: ((...args: Parameters<typeof setTimeout>) => {
    const timer = setTimeout(...args);
    started?.push(timer);
    return timer;
  }) as typeof setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  Date,
});

/** Run `fn` (which calls browserchannel's middleware) and return the timeouts browserchannel started in it. */
export function startedTimers(fn: () => void): ReturnType<typeof setTimeout>[] {
  const previous = started;
  const timers: ReturnType<typeof setTimeout>[] = [];
  started = timers;
  try {
    fn();
  } finally {
    started = previous;
  }
  return timers;
}

// Exactly one rack is created when browserchannel's module is evaluated here. None means it had
// already been loaded elsewhere (its ids cannot be reached, and are left as browserchannel keeps
// them); more would be a browserchannel this code does not know.
const sessionIds = racks.length === 1 ? racks[0]!.hats : undefined;

/** Let browserchannel's id generator forget a closed session's id. */
export function forgetSessionId(id: string): void {
  if (sessionIds) delete sessionIds[id];
}

/** How many ids browserchannel's generator still remembers (undefined when it could not be reached). */
export function rememberedSessionIds(): number | undefined {
  return sessionIds ? Object.keys(sessionIds).length : undefined;
}
