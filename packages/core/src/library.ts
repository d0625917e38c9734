import { clientLibrary } from '@primus/client';
import { functionExpression } from './parser';
import { pluginParts } from './plugins';
import type { Primus } from './primus';

/**
 * Assemble `primus.js`: one self-contained script with the client, the transformer's browser half,
 * the parser, every plugin's client half and library, and the server's settings. It assigns the
 * client class to the global named by the `global` option, and to `module.exports` or an AMD
 * `define` where those exist.
 */
export function buildLibrary(primus: Primus): string {
  const { transformer, parser, options } = primus;
  if (!parser.browser) {
    throw new Error(`Primus: the parser "${parser.name}" has no browser half (its "browser" property), so primus.js cannot be built`);
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
  const settings = {
    pathname: primus.pathname,
    version: primus.version,
    authorization: !!primus.auth,
    ping: options.timeout ? Math.max(options.timeout - 10000, 0) : false,
  };
  const config = [
    ...Object.entries(settings).map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
    "transport: typeof transport === 'function' ? transport(lib) : transport",
    `parser: (${parser.browser})`,
    `plugins: {${plugins.join(',\n')}}`,
  ];
  // Plugin libraries are defined outside the factory, so they see globals and `Primus` only; the
  // loop that runs them is left out when there are none.
  return [
    '(function (root, name, factory, libraries) {',
    '  var Primus = factory();',
    '  if (root) root[name] = Primus;',
    ...(libraries.length ? ['  for (var i = 0; i < libraries.length; i++) libraries[i](Primus);'] : []),
    "  if (typeof module === 'object' && module && module.exports) module.exports = Primus;",
    "  else if (typeof define === 'function' && define.amd) define(function () { return Primus; });",
    "})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : this, " +
      JSON.stringify(options.global) +
      ', function () {',
    `  var lib = ${clientLibrary};`,
    `  var transport = (${transformer.browser()});`,
    `  return lib.compile({\n    ${config.join(',\n    ')}\n  });`,
    '}, [' + libraries.join(',\n') + ']);',
    '',
  ].join('\n');
}
