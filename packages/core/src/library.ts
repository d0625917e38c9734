import { writeFile, writeFileSync } from 'node:fs';
import { clientLibrary, clientLibraryRecovery, compile, type ClientPlugin, type PrimusConstructor } from '@primus/client';
import { functionExpression } from './parser';
import { PrimusError } from './errors';
import { pluginParts } from './plugins';
import type { Primus } from './primus';

/** The settings compiled into clients. */
interface ClientSettings {
  pathname: string;
  version: string;
  authorization?: true;
  ping: number | false;
  recovery?: true;
}

function clientSettings(primus: Primus): ClientSettings {
  const timeout = primus.options.timeout;
  const settings: ClientSettings = { pathname: primus.pathname, version: primus.version, ping: timeout ? Math.max(timeout - 10000, 0) : false };
  // Flags are left out when off (compile() reads a missing one as false), keeping primus.js short.
  if (primus.auth) settings.authorization = true;
  if (primus.options.recovery) settings.recovery = true;
  return settings;
}

/**
 * Assemble `primus.js`: one self-contained script with the client, the transformer's browser half,
 * the parser, every plugin's client half and library, and the server's settings. It assigns the
 * client class to the global named by the `global` option, and to `module.exports` or an AMD
 * `define` where those exist.
 */
export function buildLibrary(primus: Primus): string {
  const { transformer, parser, options } = primus;
  if (!parser.browser) {
    throw new PrimusError('PRIMUS_ERR_INVALID_PARSER', `Primus: the parser "${parser.name}" has no browser half (its "browser" property), so primus.js cannot be built`);
  }
  const plugins: string[] = [];
  const libraries: string[] = [];
  for (const [name, plugin] of Object.entries(primus.ark)) {
    const { client, library } = pluginParts(plugin);
    if (typeof client === 'function') {
      plugins.push(`${JSON.stringify(name)}:${functionExpression(String(client))}`);
    }
    if (typeof library === 'string' && library) {
      libraries.push(`function (Primus) {\n${library}\n}`);
    }
  }
  const settings = clientSettings(primus);
  // An empty plugin list is left out: compile() reads a missing one as none.
  const config = [
    ...Object.entries(settings).map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
    "transport: typeof transport === 'function' ? transport(lib) : transport",
    `parser: (${parser.browser})`,
    ...(plugins.length ? [`plugins: {${plugins.join(',\n')}}`] : []),
  ];
  // Plugin libraries are defined outside the client's function, so they see globals and `Primus`
  // only; the loop that runs them is left out when there are none. The client needs `globalThis`
  // (it reads `globalThis.location` and `globalThis.WebSocket`), so the global is set on it
  // without falling back to `self` or `this`.
  return [
    `(function (Primus${libraries.length ? ', libraries' : ''}) {`,
    `  globalThis[${JSON.stringify(options.global)}] = Primus;`,
    ...(libraries.length ? ['  for (var i = 0; i < libraries.length; i++) libraries[i](Primus);'] : []),
    "  if (typeof module === 'object' && module && module.exports) module.exports = Primus;",
    "  else if (typeof define === 'function' && define.amd) define(() => Primus);",
    '})(function () {',
    // The recovery session ships only to the pages of a server that has recovery on.
    `  var lib = ${options.recovery ? clientLibraryRecovery : clientLibrary};`,
    `  var transport = (${transformer.browser()});`,
    `  return lib.compile({\n    ${config.join(',\n    ')}\n  });`,
    libraries.length ? '}(), [' + libraries.join(',\n') + ']);' : '}());',
    '',
  ].join('\n');
}

/**
 * A server's clients: `primus.js` as served (built once per configuration) and the Node client
 * class `primus.Socket`. Anything that changes what a client is built from invalidates both.
 */
export class ClientBuild {
  private library: string | null = null;
  private socket: PrimusConstructor | null = null;

  constructor(private readonly primus: Primus) {}

  /** The transformer, parser, authorization or plugins changed. */
  invalidate(): void {
    this.library = null;
    this.socket = null;
  }

  /** `primus.js`, built on first use. */
  cachedLibrary(): string {
    return (this.library ??= buildLibrary(this.primus));
  }

  /** Write the browser library to a file: synchronously, or with a callback. */
  save(path: string, fn?: (err: NodeJS.ErrnoException | null) => void): void {
    if (!fn) return writeFileSync(path, buildLibrary(this.primus));
    writeFile(path, buildLibrary(this.primus), fn);
  }

  /** The Node client class: the server's transformer, parser, pathname and plugins. */
  Socket(): PrimusConstructor {
    if (this.socket) return this.socket;
    const primus = this.primus;
    const plugins: Record<string, ClientPlugin> = {};
    for (const [name, plugin] of Object.entries(primus.ark)) {
      const { client } = pluginParts(plugin);
      if (typeof client === 'function') plugins[name] = client;
    }
    this.socket = compile({
      ...clientSettings(primus),
      transport: primus.transformer.client,
      parser: primus.parser as unknown as Parameters<typeof compile>[0]['parser'],
      plugins,
    });
    return this.socket;
  }
}
