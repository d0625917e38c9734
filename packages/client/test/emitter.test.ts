// primus.js ships its own eventemitter3-compatible emitter (src/emitter.ts) instead of
// eventemitter3. Every scenario here runs against eventemitter3, that emitter, and the emitter
// inside the built browser bundle (`clientLibrary`, as primus.js embeds it), and all three must
// behave the same.
import { describe, expect, it } from '@jest/globals';
import { EventEmitter as EventEmitter3 } from 'eventemitter3';
import { clientLibrary } from '@primus/client';
import { EventEmitter as BrowserEmitter } from '../src/emitter';

type Emitter = {
  on(event: unknown, fn: (...args: any[]) => unknown, context?: unknown): Emitter;
  once(event: unknown, fn: (...args: any[]) => unknown, context?: unknown): Emitter;
  addListener(event: unknown, fn: (...args: any[]) => unknown, context?: unknown): Emitter;
  off(event: unknown, fn?: (...args: any[]) => unknown, context?: unknown, once?: boolean): Emitter;
  removeListener(event: unknown, fn?: (...args: any[]) => unknown, context?: unknown, once?: boolean): Emitter;
  removeAllListeners(event?: unknown): Emitter;
  emit(event: unknown, ...args: unknown[]): boolean;
  listeners(event: unknown): unknown[];
  listenerCount(event: unknown): number;
  eventNames(): unknown[];
};
type EmitterClass = new () => Emitter;

/** One symbol for every run, so that the runs' results compare equal. */
const sym = Symbol('s');

/** The emitter class the built browser bundle uses: the base class of its `PrimusClient`. */
function bundledEmitter(): EmitterClass {
  const lib = new Function(`return ${clientLibrary};`)() as { PrimusClient: object };
  return Object.getPrototypeOf(lib.PrimusClient) as EmitterClass;
}

type Implementation = [label: string, emitter: EmitterClass];
const implementations: [Implementation, ...Implementation[]] = [
  ['eventemitter3', EventEmitter3 as unknown as EmitterClass],
  ['src/emitter.ts', BrowserEmitter as unknown as EmitterClass],
  ['the built browser bundle', bundledEmitter()],
];

/** Scenarios: each drives a fresh emitter and returns what a user would observe. */
const scenarios: Record<string, (E: EmitterClass) => unknown> = {
  'calls listeners in order with every argument, and returns whether there were any'(E) {
    const e = new E();
    const log: unknown[] = [];
    const none = e.emit('nothing');
    e.on('x', (...args: unknown[]) => log.push(['first', ...args]));
    e.addListener('x', (...args: unknown[]) => log.push(['second', ...args]));
    const results = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => e.emit('x', ...Array.from({ length: n }, (_, i) => i)));
    return { none, results, log };
  },

  'calls listeners with the context, or the emitter when none or a falsy one is given'(E) {
    const e = new E();
    const ctx = { name: 'ctx' };
    const seen: unknown[] = [];
    e.on('x', function (this: unknown) {
      seen.push(this === e ? 'emitter' : this);
    });
    e.on(
      'x',
      function (this: unknown) {
        seen.push(this === e ? 'emitter' : this);
      },
      ctx,
    );
    e.on(
      'x',
      function (this: unknown) {
        seen.push(this === e ? 'emitter' : this);
      },
      0,
    );
    e.emit('x');
    return seen;
  },

  'removes a once listener before calling it, and only calls it once'(E) {
    const e = new E();
    const log: unknown[] = [];
    e.once('x', (v: unknown) => log.push([v, e.listenerCount('x')]));
    e.on('x', (v: unknown) => log.push(['on', v]));
    e.emit('x', 1);
    e.emit('x', 2);
    return { log, count: e.listenerCount('x') };
  },

  'removes every once listener of the same function on the first emit, and still calls each'(E) {
    const e = new E();
    let calls = 0;
    const fn = () => calls++;
    e.once('x', fn);
    e.once('x', fn);
    e.on('x', fn);
    e.emit('x');
    const afterFirst = [calls, e.listenerCount('x')];
    e.emit('x');
    return { afterFirst, calls };
  },

  'filters removeListener by function, context and once'(E) {
    const e = new E();
    const a = () => {};
    const b = () => {};
    const ctx = {};
    e.on('x', a);
    e.on('x', a, ctx);
    e.once('x', a);
    e.on('x', b);
    const counts: number[] = [e.listenerCount('x')];
    e.removeListener('x', a, undefined, true);
    counts.push(e.listenerCount('x'));
    e.off('x', a, ctx);
    counts.push(e.listenerCount('x'));
    e.removeListener('x', a);
    counts.push(e.listenerCount('x'));
    e.removeListener('x', () => {});
    counts.push(e.listenerCount('x'));
    e.removeListener('x');
    counts.push(e.listenerCount('x'));
    e.removeListener('missing', a);
    return { counts, same: e.listeners('x'), names: e.eventNames() };
  },

  'runs the listeners of the moment an emit starts, whatever they add or remove'(E) {
    const e = new E();
    const log: string[] = [];
    const late = () => log.push('late');
    const removed = () => log.push('removed');
    e.on('x', () => {
      log.push('first');
      e.removeListener('x', removed);
      e.on('x', late);
    });
    e.on('x', removed);
    e.emit('x');
    log.push('--');
    e.emit('x');
    return log;
  },

  'keys events by name: numbers and their strings are one event, symbols their own'(E) {
    const e = new E();
    const log: unknown[] = [];
    e.on('b', () => log.push('b'));
    e.on(sym, () => log.push('sym'));
    e.on(2, () => log.push(2));
    e.on('1', () => log.push('1'));
    e.on('a', () => log.push('a'));
    e.emit('2');
    e.emit(1);
    e.emit(sym);
    return { log, names: e.eventNames(), count: e.listenerCount(2) };
  },

  'gives a copy from listeners()'(E) {
    const e = new E();
    const fn = () => {};
    e.on('x', fn);
    const list = e.listeners('x');
    list.push('not a listener');
    return { list: e.listeners('x').map((l) => l === fn), missing: e.listeners('nope'), count: e.listenerCount('nope') };
  },

  'clears one event, or every event when the name is missing or falsy'(E) {
    const e = new E();
    const fn = () => {};
    e.on('a', fn).on('b', fn).on('', fn);
    e.removeAllListeners('a');
    const afterOne = e.eventNames();
    e.on('a', fn);
    e.removeAllListeners('');
    const afterFalsy = e.eventNames();
    e.on('c', fn);
    e.removeAllListeners();
    return { afterOne, afterFalsy, afterAll: e.eventNames(), emitted: e.emit('c') };
  },

  'returns the emitter from on, once, off and removeAllListeners'(E) {
    const e = new E();
    const fn = () => {};
    return [e.on('x', fn), e.once('x', fn), e.off('x', fn), e.removeAllListeners()].map((r) => r === e);
  },

  'rejects a listener that is not a function'(E) {
    const e = new E();
    try {
      e.on('x', 'nope' as never);
      return 'no error';
    } catch (err) {
      return [(err as Error).constructor.name, (err as Error).message];
    }
  },

  'handles an emit from inside a listener'(E) {
    const e = new E();
    const log: string[] = [];
    e.on('outer', () => {
      log.push('outer');
      e.emit('inner');
    });
    e.once('inner', () => log.push('inner'));
    e.emit('outer');
    e.emit('outer');
    return log;
  },
};

describe('the browser emitter', () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    it(name, () => {
      const [[, reference], ...others] = implementations;
      const expected = scenario(reference);
      for (const [label, E] of others) expect([label, scenario(E)]).toEqual([label, expected]);
    });
  }

  it('is what the scenarios above expect of eventemitter3', () => {
    // A few outcomes spelled out, so the comparison above cannot pass on a shared mistake.
    const E = implementations[1]![1];
    expect(scenarios['runs the listeners of the moment an emit starts, whatever they add or remove']!(E)).toEqual(['first', 'removed', '--', 'first', 'late']);
    expect(scenarios['removes a once listener before calling it, and only calls it once']!(E)).toEqual({
      log: [
        [1, 1],
        ['on', 1],
        ['on', 2],
      ],
      count: 1,
    });
    const keyed = scenarios['keys events by name: numbers and their strings are one event, symbols their own']!(E) as {
      log: unknown[];
      names: unknown[];
    };
    expect(keyed.log).toEqual([2, '1', 'sym']);
    expect(keyed.names.slice(0, 4)).toEqual(['1', '2', 'b', 'a']);
  });
});
