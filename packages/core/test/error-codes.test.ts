import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// Every error a published package throws or emits carries a code that docs/errors.md explains,
// and docs/errors.md explains no code that nothing raises. The source is read as text: an
// `new Error(` / `new TypeError(` / `new RangeError(` / `new SyntaxError(` that neither goes
// through the error classes nor sets a documented code within the same statement must be on the
// list below, with the reason it needs no code of its own.

const ROOT = join(__dirname, '..', '..', '..');
const DOCS = join(ROOT, 'docs', 'errors.md');
const CODE = /\b(?:PRIMUS|LWS)_(?:ERR|WARN)_[A-Z0-9_]+\b/g;
const RAW = /\bnew (?:Error|TypeError|RangeError|SyntaxError)\(/g;

interface Exception {
  /** A file, or a folder ending in `/`, relative to the repository. */
  path: string;
  /** Text on the line of the `new Error(`; omitted for a whole file or folder. */
  line?: string;
  why: string;
}

const EXCEPTIONS: Exception[] = [
  {
    path: 'packages/transformer-test-suite/src/',
    why: 'the conformance suite is a test harness: its errors are failed tests reported by jest, not errors an application catches',
  },
  {
    path: 'packages/bundle-browser/src/',
    why: 'a build-time command for package authors: its errors are printed by the command, which then exits; no running application sees them',
  },
  {
    path: 'packages/parser-binary/src/',
    why: "a parser's own encode/decode failure: the core and the client raise it as the `cause` of a ParserError (PRIMUS_ERR_PARSER_ENCODE/DECODE), @primus/redis as that of PRIMUS_ERR_CLUSTER_ENCODE",
  },
  { path: 'packages/parser-ejson/src/', why: 'as for parser-binary: always the `cause` of a coded ParserError' },
  { path: 'packages/parser-msgpack/src/', why: 'as for parser-binary: always the `cause` of a coded ParserError' },
  {
    path: 'packages/core/src/parser.ts',
    line: 'must call back synchronously',
    why: "thrown inside the adapted parser's encode/decode, so it reaches users as the `cause` of a ParserError",
  },
  {
    path: 'packages/core/src/middleware.ts',
    line: 'fail(e instanceof Error',
    why: "the application's middleware threw something that is not an Error: it is boxed as it is, the application's own failure",
  },
  {
    path: 'packages/core/src/middleware.ts',
    line: 'Object.assign(new Error(',
    why: "the application's authorization refused with a value that is not an Error: boxed with its properties (statusCode, message), the application's own",
  },
  {
    path: 'packages/core/src/middleware.ts',
    line: 'authorization rejected',
    why: "the application's authorization promise rejected without a reason; the refusal is the application's, answered with 401",
  },
  {
    path: 'packages/core/src/async-emit.ts',
    why: "an application listener of an asynchronous event failed with something that is not an Error: boxed as it is, the application's own failure",
  },
  {
    path: 'packages/admin/src/index.ts',
    line: 'statusCode: status',
    why: "the admin page's HTTP refusal: the core answers the request with its statusCode and message; it is never thrown at or emitted to the application",
  },
  {
    path: 'packages/client/src/emitter.ts',
    line: 'The listener must be a function',
    why: "the browser build's stand-in for eventemitter3 throws eventemitter3's own error, so both builds behave alike",
  },
  {
    path: 'packages/protocol/src/transform.ts',
    why: "toError() boxes what an application's message transformer failed with; the client raises it as the `cause` of PRIMUS_ERR_TRANSFORM",
  },
  {
    path: 'packages/transformer-engineio/src/transport.ts',
    why: 'a transport failure: the client emits an error without a code of its own as PRIMUS_ERR_CONNECTION, with this one as the `cause`',
  },
  {
    path: 'packages/transformer-socketio/src/transport.ts',
    why: 'a transport failure: the client emits an error without a code of its own as PRIMUS_ERR_CONNECTION, with this one as the `cause`',
  },
  {
    path: 'packages/transformer-sockjs/src/transport.ts',
    why: 'a transport failure: the client emits an error without a code of its own as PRIMUS_ERR_CONNECTION, with this one as the `cause`',
  },
  {
    path: 'packages/transformer-browserchannel/src/transport.ts',
    why: 'a transport failure: the client emits an error without a code of its own as PRIMUS_ERR_CONNECTION, with this one as the `cause`',
  },
  {
    path: 'packages/transformer-browserchannel/src/node-xhr.ts',
    why: "the Node XMLHttpRequest under browserchannel's client fails requests as XHR does; browserchannel turns that into a transport failure (PRIMUS_ERR_CONNECTION)",
  },
  {
    path: 'packages/transformer-browserchannel/src/client.ts',
    why: "guards that browserchannel's Node client is the file this version was written against (it is pinned); a failure is a packaging bug, not a condition to handle",
  },
  {
    path: 'packages/transformer-faye/src/server.ts',
    line: 'new Error(event.message)',
    why: 'a transport failure reported to the core, which passes an error without a code of its own on as PRIMUS_ERR_CONNECTION',
  },
];

/** Source files of the published packages. */
function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === 'generated' || name === 'node_modules') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(m|c)?ts$/.test(name) && !name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    const manifest = join(ROOT, 'packages', pkg, 'package.json');
    let isPrivate = true;
    try {
      isPrivate = Boolean(JSON.parse(readFileSync(manifest, 'utf8')).private);
    } catch {
      continue;
    }
    if (isPrivate) continue;
    try {
      walk(join(ROOT, 'packages', pkg, 'src'));
    } catch {
      // a package without src/
    }
  }
  return files.map((file) => relative(ROOT, file).split('\\').join('/'));
}

/** The source without comments and without type aliases that only list codes. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\/])\/\/.*$/gm, '$1')
    .replace(/export type \w*Code\b[^;]*;/g, (m) => m.replace(/[^\n]/g, ' '));
}

const files = sources();
const texts = new Map(files.map((file) => [file, code(readFileSync(join(ROOT, file), 'utf8'))]));
const docs = readFileSync(DOCS, 'utf8');
const documented = new Set([...docs.matchAll(CODE)].map((m) => m[0]));

function exceptionFor(file: string, line: string): Exception | undefined {
  return EXCEPTIONS.find((e) => (e.path.endsWith('/') ? file.startsWith(e.path) : file === e.path) && (e.line === undefined || line.includes(e.line)));
}

describe('error codes', () => {
  it('every error a published package constructs carries a code, or is on the justified list', () => {
    const uncoded: string[] = [];
    const used = new Set<Exception>();
    for (const [file, text] of texts) {
      const lines = text.split('\n');
      lines.forEach((line, index) => {
        if (!RAW.test(line)) return;
        RAW.lastIndex = 0;
        // A documented code set in the same statement (Object.assign(new Error(...), { code }) or
        // `err.code = '...'` on the next lines) counts as coded.
        const statement = lines.slice(index, index + 3).join('\n');
        if (/\bcode\b/.test(statement) && CODE.test(statement)) {
          CODE.lastIndex = 0;
          return;
        }
        CODE.lastIndex = 0;
        const exception = exceptionFor(file, line);
        if (exception) used.add(exception);
        else uncoded.push(`${file}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(uncoded).toEqual([]);
    // A stale entry would hide the next uncoded error in that place.
    expect(EXCEPTIONS.filter((e) => !used.has(e)).map((e) => `${e.path} ${e.line ?? ''}`)).toEqual([]);
  });

  it('every code in the source is explained in docs/errors.md', () => {
    const missing = new Set<string>();
    for (const [file, text] of texts) {
      for (const match of text.matchAll(CODE)) if (!documented.has(match[0])) missing.add(`${match[0]} (${file})`);
    }
    expect([...missing]).toEqual([]);
  });

  it('every code docs/errors.md explains is raised somewhere', () => {
    const raised = new Set<string>();
    for (const text of texts.values()) for (const match of text.matchAll(CODE)) raised.add(match[0]);
    expect([...documented].filter((c) => !raised.has(c))).toEqual([]);
  });

  it('docs/errors.md has a section for every code in its table', () => {
    const table = new Set([...docs.matchAll(/^\| \[`([A-Z_]+)`\]/gm)].map((m) => m[1]!));
    const sections = new Set([...docs.matchAll(/^## ([A-Z][A-Z0-9_]+)$/gm)].map((m) => m[1]!));
    expect([...table].filter((c) => !sections.has(c))).toEqual([]);
    expect([...sections].filter((c) => !table.has(c))).toEqual([]);
  });
});
