import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

// What `@primus/client` offers users, read from the built package as npm ships it (run the build
// first): the client API, the error classes users catch, and what transformer authors implement.
// The protocol kernel (decoding, control messages, message transformers) is @primus/protocol's,
// and the client's own helpers (URL and query parsing, timers, the reconnect schedule) stay
// inside: none of them may leak out of the entry.

const dist = path.join(__dirname, '..', 'dist');

/** Values an application can import. */
const VALUES = [
  'CLOSED',
  'OPEN',
  'OPENING',
  'ParserError',
  'Primus',
  'PrimusClient',
  'PrimusError',
  'clientLibrary',
  'clientLibraryRecovery',
  'compile',
  'default',
  'websocketTransport',
];

/** Types only. */
const TYPES = [
  'AttemptDone',
  'ClientConfig',
  'ClientCustomEvents',
  'ClientEventMap',
  'ClientEvents',
  'ClientOptions',
  'ClientParser',
  'ClientPlugin',
  'ClientTransport',
  'MessageTransformer',
  'Packet',
  'ParsedUrl',
  'PrimusConstructor',
  'PrimusErrorCode',
  'ReconnectAttempt',
  'ReconnectOptions',
  'ResolvedClientOptions',
  'TransformNext',
  'TransportConnection',
  'TransportEvents',
  'TransportHost',
  'UriOptions',
  'WebSocketFactory',
];

/** What the core once imported from the client's entry; it now comes from @primus/protocol or stays private. */
const INTERNALS = [
  'runTransformers',
  'toError',
  'TransformDone',
  'CONTROL_PREFIX',
  'parseControl',
  'isControl',
  'escapeSeparators',
  'emits',
  'parseUrl',
  'parseQuery',
  'stringifyQuery',
  'yeast',
  'Timers',
  'Recovery',
  'RECONNECT_DEFAULTS',
  'parseDuration',
  'typeError',
  'invalidOption',
  'receive',
  'transmit',
];

/** Every name the declaration file exports. */
function declaredExports(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    noEmit: true,
    noLib: true,
    types: [],
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const module = checker.getSymbolAtLocation(source)!;
  return checker
    .getExportsOfModule(module)
    .map((symbol) => symbol.getName())
    .sort();
}

describe('the public entry of @primus/client', () => {
  it('exports the client API and nothing of the protocol kernel or the client internals, in JavaScript', () => {
    for (const file of ['index.cjs', 'index.js']) expect(existsSync(path.join(dist, file))).toBe(true);
    const exported = Object.keys(createRequire(__filename)(path.join(dist, 'index.cjs'))).sort();
    expect(exported).toEqual([...VALUES].sort());
    for (const name of INTERNALS) expect(exported).not.toContain(name);
  });

  it('declares the same API in both declaration files, internals left out', () => {
    for (const file of ['index.d.ts', 'index.d.cts']) {
      const declared = declaredExports(path.join(dist, file));
      expect(declared).toEqual([...VALUES, ...TYPES].sort());
      for (const name of INTERNALS) expect(declared).not.toContain(name);
    }
  });
});
