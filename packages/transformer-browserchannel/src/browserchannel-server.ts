import { createRequire } from 'node:module';
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

function load(): typeof BrowserChannel {
  try {
    return fromBrowserchannel('./server.js') as typeof BrowserChannel;
  } finally {
    hat.rack = rack;
  }
}

/** browserchannel's server middleware factory. */
export const browserChannel = load();

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
