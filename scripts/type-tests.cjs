// Type tests: TypeScript files whose `// @ts-expect-error <code> <why>` lines must fail to
// compile, checked against the BUILT declarations (`dist/*.d.ts`) a user installs, not the sources.
// Used by the jest tests in packages/core/test/types.test.ts and packages/client/test/types.test.ts.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const DIRECTIVE = /^\s*\/\/ @ts-expect-error (\d+)\b/;

/** How a user's project would resolve the packages: no `paths`, so `@primus/*` is `dist/`. */
const SETTINGS = {
  bundler: { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler },
  node16: { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 },
  // The same files compiled as CommonJS (`.cts`), which resolves the `require` condition: `*.d.cts`.
  'node16-cjs': { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 },
};

/** Where a test file is compiled under `setting`: CommonJS settings read it as a `.cts` beside it. */
function placed(file, setting) {
  return setting.endsWith('-cjs') ? file.replace(/\.ts$/, '.cts') : file;
}

/** Parsed declaration files (lib, @types/node, dist), shared by every compile in this process. */
const parsed = new Map();

/** Compile `texts` (file name to source text) as a user's project would, under `setting`. */
function compile(texts, setting, oldProgram) {
  const options = {
    ...SETTINGS[setting],
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    strict: true,
    noEmit: true,
    // The declarations themselves are checked by attw and by the examples that build against
    // them; here only what the test files make of them matters.
    skipLibCheck: true,
    types: ['node'],
  };
  const host = ts.createCompilerHost(options, true);
  const exists = host.fileExists;
  host.fileExists = (file) => texts.has(path.resolve(file)) || exists(file);
  const read = host.readFile;
  host.readFile = (file) => (texts.has(path.resolve(file)) ? texts.get(path.resolve(file)) : read(file));
  const get = host.getSourceFile;
  host.getSourceFile = (file, languageVersion, onError, fresh) => {
    const text = texts.get(path.resolve(file));
    if (text !== undefined) return ts.createSourceFile(file, text, languageVersion, true);
    const key = `${path.resolve(file)}\0${JSON.stringify(languageVersion)}`;
    if (!parsed.has(key)) parsed.set(key, get(file, languageVersion, onError, fresh));
    return parsed.get(key);
  };
  const program = ts.createProgram([...texts.keys()], options, host, oldProgram);
  const found = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const file of texts.keys()) {
    const source = program.getSourceFile(file);
    found.push(...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source));
  }
  const diagnostics = found.map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    return {
      file: d.file ? path.resolve(d.file.fileName) : undefined,
      line: where ? where.line + 1 : 0,
      code: d.code,
      text: `${d.file ? path.relative(process.cwd(), d.file.fileName) : ''}${where ? `:${where.line + 1}` : ''} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    };
  });
  return { program, diagnostics };
}

/** The `@ts-expect-error <code>` lines of a file: the line below each must fail with that code. */
function directives(file, text) {
  return text.split('\n').flatMap((text, index) => {
    const match = DIRECTIVE.exec(text);
    return match ? [{ file, line: index + 2, code: Number(match[1]) }] : [];
  });
}

/**
 * Check type-test files as a user's project compiles them. Returns what a test asserts:
 * - `declarations`: the workspace files the program read besides the tests (all `dist/*.d.ts` when
 *   the packages resolve as they do for a user);
 * - `diagnostics`: errors as written (an unused `@ts-expect-error` is one);
 * - `expected` / `unexpected` / `missing`: with the directives removed, each directive's line must
 *   fail with its code (`missing` lists those that did not) and nothing else may fail (`unexpected`).
 */
function checkTypeTests({ files, setting = 'bundler' }) {
  const sources = new Map(files.map((file) => [placed(path.resolve(file), setting), fs.readFileSync(file, 'utf8')]));
  files = [...sources.keys()];
  const { program, diagnostics } = compile(sources, setting);
  const root = path.resolve(__dirname, '..');
  const declarations = program
    .getSourceFiles()
    .map((source) => path.resolve(source.fileName))
    .filter((file) => file.startsWith(path.join(root, 'packages')) && !files.includes(file))
    .map((file) => path.relative(root, fs.realpathSync(file)))
    .sort();
  const expected = [...sources].flatMap(([file, text]) => directives(file, text));
  const stripped = new Map([...sources].map(([file, text]) => [file, text.replace(/\/\/ @ts-expect-error\b/g, '// expected error ')]));
  const loose = compile(stripped, setting, program).diagnostics;
  const missing = expected.filter((e) => !loose.some((d) => d.file === e.file && d.line === e.line && d.code === e.code));
  const unexpected = loose.filter((d) => !expected.some((e) => d.file === e.file && d.line === e.line)).map((d) => d.text);
  return {
    declarations,
    diagnostics: diagnostics.map((d) => d.text),
    expected: expected.length,
    missing: missing.map((e) => `${path.relative(process.cwd(), e.file)}:${e.line} should fail with TS${e.code}`),
    unexpected,
  };
}

/** The member names of `interface <name>` in a declaration file, as written (no type checking). */
function interfaceKeys(file, name) {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const keys = [];
  source.forEachChild(function visit(node) {
    if (ts.isInterfaceDeclaration(node) && node.name.text === name) {
      for (const member of node.members) if (member.name) keys.push(member.name.text);
    }
    ts.forEachChild(node, visit);
  });
  return keys;
}

/**
 * The event names of a README's events table: the backticked names in the first column of the
 * table that follows `heading`, with any `(arguments)` dropped.
 */
function documentedEvents(readme, heading) {
  const text = fs.readFileSync(readme, 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  if (start === -1) throw new Error(`${readme} has no heading "${heading}"`);
  const lines = text.slice(start + heading.length + 2).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const table = lines.slice(first, first + lines.slice(first).findIndex((line) => !line.startsWith('|'))).slice(2);
  return table.flatMap((row) => [...row.split('|')[1].matchAll(/`([^`(]+)(?:\([^`]*\))?`/g)].map((match) => match[1].trim()));
}

module.exports = { checkTypeTests, interfaceKeys, documentedEvents };
