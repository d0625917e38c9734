import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { json } from '@primus/parser-json';
import { type Primus, Spark, type Packet, type Plugin } from '@primus/core';
import { nextSpark, once } from '@primus/transformer-test-suite';
import { cleanup, detached, detachedWs, evaluateLibrary, FakeWebSocket, start } from './helpers';

// A plugin's own option, declared the way the core README documents.
declare module '@primus/core' {
  interface PrimusOptions {
    /** Read by the plugin in 'runs the server half at once'. */
    pluginTestOption?: string;
  }
}

afterEach(cleanup);

describe('use()', () => {
  it.each<[string, () => void, RegExp]>([
    ['no name', () => detached().use({} as Plugin), /Plugin should be specified with a name/],
    ['a name that is not a string', () => detached().use((() => {}) as unknown as string, { server() {} }), /Plugin names should be a string/],
    ['a plugin that is not an object or function', () => detached().use('five', 5 as unknown as Plugin), /Plugin should be an object or function/],
    ['neither a client nor a server half', () => detached().use('empty', {}), /The plugin is missing a client or server function/],
  ])('refuses %s', (_what, add, message) => {
    expect(add).toThrow(message);
    expect(add).toThrow(expect.objectContaining({ code: 'PRIMUS_ERR_PLUGIN' }));
  });

  it('refuses a second plugin with the same name', () => {
    const primus = detached();
    primus.use('dup', { server() {} });
    expect(() => primus.use('dup', { client() {} })).toThrow(/The plugin name "dup" was already defined/);
  });

  it('accepts client-only, server-only and two-sided plugins, and returns the server', () => {
    const primus = detached();
    expect(primus.plugin()).toEqual({});
    expect(
      primus
        .use('client', { client() {} })
        .use('server', { server() {} })
        .use('both', { client() {}, server() {} }),
    ).toBe(primus);
    expect(Object.keys(primus.plugin())).toEqual(['client', 'server', 'both']);
  });

  it('takes the name from the plugin object when none is given', () => {
    const primus = detached();
    primus.use({ name: 'named', server() {} });
    expect(primus.plugin('named')).toBeDefined();
  });

  it('accepts constructors with static halves, class instances and Object.create()d objects', () => {
    const primus = detached();
    const ran: string[] = [];
    class WithStatics {
      static server(): void {
        ran.push('static');
      }
    }
    class WithMethods {
      server(): void {
        ran.push('instance');
      }
    }
    primus.use('statics', WithStatics as unknown as Plugin);
    primus.use('instance', new WithMethods());
    primus.use('created', Object.create({ server: () => ran.push('created') }) as Plugin);
    expect(ran).toEqual(['static', 'instance', 'created']);
  });

  it('runs the server half at once, with this === primus, the server and its options', () => {
    const primus = detached({ pluginTestOption: 'value' });
    const calls: unknown[][] = [];
    primus.use('spy', {
      server(this: Primus, pri, options) {
        calls.push([this, pri, options]);
        (pri as Primus & { hello(): string }).hello = () => 'hi';
      },
    });
    expect(calls).toEqual([[primus, primus, primus.options]]);
    expect(primus.options.pluginTestOption).toBe('value');
    expect((primus as Primus & { hello(): string }).hello()).toBe('hi');
  });

  it('emits plugin with the name and the plugin', () => {
    const primus = detached();
    const events: unknown[][] = [];
    primus.on('plugin', (name: string, plugin: Plugin) => events.push([name, plugin.server]));
    const server = (): void => {};
    primus.use('evented', { server });
    expect(events).toEqual([['evented', server]]);
  });

  it("lets a plugin extend this server's sparks only", () => {
    const mine = detached();
    const other = detached();
    const globalHooks = (Spark.prototype as unknown as { __initialise: unknown[] }).__initialise.length;
    mine.use('rooms', {
      server(primus) {
        (primus.Spark.prototype as Spark & { join(room: string): string }).join = function (this: Spark, room: string) {
          return `${this.id} joined ${room}`;
        };
        primus.Spark.prototype.initialise = function (this: Spark) {
          (this as Spark & { rooms: string[] }).rooms = [];
        };
      },
    });
    const spark = new mine.Spark({}, {}, '', 'a') as Spark & { join(room: string): string; rooms: string[] };
    expect(spark.join('lobby')).toBe('a joined lobby');
    expect(spark.rooms).toEqual([]);
    const foreign = new other.Spark() as Spark & { join?: unknown; rooms?: unknown };
    expect(foreign.join).toBeUndefined();
    expect(foreign.rooms).toBeUndefined();
    expect((Spark.prototype as unknown as { __initialise: unknown[] }).__initialise.length).toBe(globalHooks);
  });
});

describe('plugout() and plugin()', () => {
  it('removes a plugin, emits plugout and returns true; false for an unknown one', () => {
    const primus = detached();
    const plugin = { server() {} };
    primus.use('gone', plugin);
    const events: unknown[][] = [];
    primus.on('plugout', (name: string, removed: Plugin) => events.push([name, removed.server]));
    expect(primus.plugout('gone')).toBe(true);
    expect(events).toEqual([['gone', plugin.server]]);
    expect(primus.plugin('gone')).toBeUndefined();
    expect(primus.plugout('gone')).toBe(false);
  });

  it('returns the very object given to use(), with what else it carries', () => {
    const primus = detached();
    const emitted: unknown[] = [];
    primus.on('plugin', (_name: string, plugin: Plugin) => emitted.push(plugin));
    const rooms = { version: '2.1.0', name: 'rooms', server() {}, client() {}, helper: (room: string) => `room:${room}` };
    primus.use(rooms);
    expect(primus.plugin('rooms')).toBe(rooms);
    expect((primus.plugin('rooms') as typeof rooms).version).toBe('2.1.0');
    expect(primus.plugin().rooms).toBe(rooms);
    expect(emitted).toEqual([rooms]);
    class Presence {
      server(): void {}
    }
    primus.use('presence', Presence as never);
    expect(primus.plugin('presence')).toBe(Presence);
  });

  it('returns one plugin by name, or a copy of all of them', () => {
    const primus = detached();
    primus.use('one', { client() {} });
    const all = primus.plugin();
    expect(Object.keys(all)).toEqual(['one']);
    delete all.one;
    expect(primus.plugin('one')).toBeDefined();
    expect(primus.plugin('two')).toBeUndefined();
  });
});

describe('the plugin option', () => {
  it('adds an object of plugins', () => {
    const primus = detached({ plugin: { a: { server() {} }, b: { client() {} } } });
    expect(Object.keys(primus.plugin())).toEqual(['a', 'b']);
  });

  it('fails clearly when a named plugin package is not installed', () => {
    const make = () => detached({ plugin: 'primus-no-such-plugin, another' });
    expect(make).toThrow(expect.objectContaining({ code: 'PRIMUS_ERR_PLUGIN' }));
    expect(make).toThrow(/Cannot find the plugin package "primus-no-such-plugin": install it first/);
  });

  it('fails clearly when a named package is not a plugin', () => {
    expect(() => detached({ plugin: 'eventemitter3' })).toThrow(/The plugin is missing a client or server function/);
  });

  it('refuses a value that is neither names nor an object', () => {
    expect(() => detached({ plugin: 42 as never })).toThrow(TypeError);
    expect(() => detached({ plugin: 42 as never })).toThrow(/"plugin"/);
  });
});

describe('plugins on the client side', () => {
  it('runs client halves in primus.Socket clients and carries server-side transformers', async () => {
    const server = await start({
      plugin: {
        emit: {
          server(primus) {
            primus.transform('incoming', function (this: Spark, packet: Packet) {
              const data = packet.data as { emit?: [string, ...unknown[]] };
              if (!data || !Array.isArray(data.emit)) return;
              // An event name from the wire is not known to the compiler: `emits()` takes any name.
              const [event, ...args] = data.emit;
              this.emits(event)(...args);
              return false;
            });
          },
          client(primus) {
            (primus as unknown as { $emit(...args: unknown[]): void }).$emit = (...args: unknown[]) => primus.write({ emit: args });
          },
        },
      },
    });
    const sparkReady = nextSpark(server.primus);
    const client = server.client() as ReturnType<typeof server.client> & { $emit(...args: unknown[]): void };
    const spark = await sparkReady;
    const custom = once(spark, 'custom event');
    client.$emit('custom event', 'foo', { bar: 1 });
    expect(await custom).toEqual(['foo', { bar: 1 }]);
  });

  it('lets a client plugin change the connect query', async () => {
    const server = await start({
      plugin: {
        query: {
          client(primus) {
            primus.on('outgoing::url', (options) => {
              (options as { query?: string }).query = 'foo=bar';
            });
          },
        },
      },
    });
    const sparkReady = nextSpark(server.primus);
    server.client();
    expect((await sparkReady).query.foo).toBe('bar');
  });
});

describe('library()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'primus-core-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("contains the parser's browser code, plugin client code and plugin libraries", () => {
    const primus = detachedWs();
    primus.use('marker', { client: function uniqueClientMarker() {}, library: 'var uniqueLibraryMarker = 1;' });
    const source = primus.library();
    expect(source).toContain(json.browser);
    expect(source).toContain('uniqueClientMarker');
    expect(source).toContain('uniqueLibraryMarker');
    expect(source).toContain(JSON.stringify('/primus'));
  });

  it('compiles a callback-style parser into the browser client', () => {
    const primus = detachedWs({
      parser: {
        encoder(data: unknown, fn: (err: null, out: string) => void) {
          fn(null, 'ENC' + JSON.stringify(data));
        },
        decoder(raw: unknown, fn: (err: null, out: unknown) => void) {
          fn(null, JSON.parse(String(raw).slice(3)));
        },
      },
    });
    const Client = evaluateLibrary(primus.library()).Primus;
    const client = new Client('http://example.com', { manual: true });
    client.open();
    FakeWebSocket.instances[0]!.accept();
    client.write({ a: 1 });
    expect(FakeWebSocket.instances[0]!.sent).toEqual(['ENC{"a":1}']);
    client.end();
  });

  it('evaluates in a browser-like scope, under the global name from the `global` option', () => {
    const primus = detachedWs({ global: 'Unicron', pathname: '/rt' });
    const scope = evaluateLibrary(primus.library());
    expect(typeof scope.Unicron).toBe('function');
    expect(scope.Primus).toBeUndefined();
    const client = new scope.Unicron('http://example.com', { manual: true });
    client.open();
    expect(FakeWebSocket.instances[0]!.url).toMatch(/^ws:\/\/example\.com\/rt\?_primuscb=[^&]+&ping=25000&pong=10000$/);
    client.end();
  });

  it('compiles plugin client halves written as methods, arrows and plain functions', () => {
    const primus = detachedWs();
    primus.use('shorthand', {
      client(client) {
        (client as unknown as Record<string, boolean>).shorthand = true;
      },
    });
    primus.use('arrow', {
      client: (client) => {
        (client as unknown as Record<string, boolean>).arrow = true;
      },
    });
    primus.use('classic', {
      client: function (client) {
        (client as unknown as Record<string, boolean>).classic = true;
      },
    });
    primus.use('library', { library: 'Primus.prototype.fromLibrary = function () { return 42; };', server() {} });
    const scope = evaluateLibrary(primus.library());
    const client = new scope.Primus('http://example.com', { manual: true });
    expect([client.shorthand, client.arrow, client.classic]).toEqual([true, true, true]);
    expect(client.fromLibrary()).toBe(42);
    expect(Object.keys(client.plugin())).toEqual(['shorthand', 'arrow', 'classic']);

    client.open();
    const socket = FakeWebSocket.instances[0]!;
    socket.accept();
    client.write('over the fake wire');
    expect(socket.sent).toEqual(['"over the fake wire"']);
    client.end();
  });

  it('leaves a plugin out once it is plugged out', () => {
    const primus = detachedWs();
    primus.use('temporary', { client: function temporaryPluginMarker() {} });
    primus.plugout('temporary');
    expect(primus.library()).not.toContain('temporaryPluginMarker');
  });

  it('saves exactly the library, synchronously and with a callback', async () => {
    const primus = detachedWs({ global: 'Saved' });
    const sync = join(dir, 'sync.js');
    primus.save(sync);
    expect(readFileSync(sync, 'utf8')).toBe(primus.library());
    const async = join(dir, 'async.js');
    await new Promise<void>((resolve, reject) => primus.save(async, (err) => (err ? reject(err) : resolve())));
    const saved = readFileSync(async, 'utf8');
    expect(saved).toBe(primus.library());
    expect(saved).toContain('"Saved"');
  });
});
