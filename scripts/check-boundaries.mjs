#!/usr/bin/env node
// The transformer boundary: a transformer uses nothing of the core but the contract. Every source
// file of a transformer package may import `@primus/core/contract` (the contract types,
// `defineTransformer` and `compactListeners`), and nothing else of `@primus/core`: no root import,
// no deep import, no relative path into the core. Run by `pnpm test` (and so by CI) before jest,
// and alone as `pnpm check:boundaries`.
//
//   node scripts/check-boundaries.mjs [directory ...]
//
// Without arguments it checks packages/transformer-*, templates/* and examples/transformer-*
// (packages/transformer-test-suite is the test harness, not a transformer). Exit code 1 and one
// line per violation when the boundary is crossed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CORE = '@primus/core';
const CONTRACT = '@primus/core/contract';
const coreDir = join(root, 'packages', 'core');
const NOT_TRANSFORMERS = new Set(['transformer-test-suite']);

/** The packages checked by default. */
function defaultPackages() {
  const found = [];
  const scan = (parent, accept) => {
    const dir = join(root, parent);
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      if (accept(name) && existsSync(join(dir, name, 'package.json'))) found.push(join(dir, name));
    }
  };
  scan('packages', (name) => name.startsWith('transformer-') && !NOT_TRANSFORMERS.has(name));
  scan('templates', () => true);
  scan('examples', (name) => name.startsWith('transformer-'));
  return found;
}

/** Every source file under `dir/src`. */
function sources(dir) {
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules' || name === 'dist') continue;
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(c|m)?(t|j)sx?$/.test(name)) files.push(path);
    }
  };
  if (existsSync(join(dir, 'src'))) walk(join(dir, 'src'));
  return files;
}

/** Every module specifier a file names: imports, re-exports, `import()` and `require()`. */
function specifiers(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (node, literal) => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    found.push({ specifier: literal.text, line: line + 1 });
  };
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node, node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isResolve = ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'require' && callee.name.text === 'resolve';
      if (isImport || isRequire || isResolve) add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node, node.argument.literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Why importing `specifier` from `file` crosses the boundary, or undefined when it does not. */
function violation(file, specifier) {
  if (specifier === CONTRACT) return undefined;
  if (specifier === CORE) return `imports ${CORE}: a transformer imports the contract only, from ${CONTRACT}`;
  if (specifier.startsWith(`${CORE}/`)) return `imports ${specifier}: only ${CONTRACT} is the contract`;
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    if (target === coreDir || target.startsWith(coreDir + sep)) return `imports the core's files (${specifier}): use ${CONTRACT}`;
  }
  return undefined;
}

const targets = process.argv.length > 2 ? process.argv.slice(2).map((dir) => resolve(dir)) : defaultPackages();
const problems = [];
let files = 0;
for (const dir of targets) {
  for (const file of sources(dir)) {
    files++;
    for (const { specifier, line } of specifiers(file)) {
      const why = violation(file, specifier);
      if (why) problems.push(`${relative(root, file)}:${line}: ${why}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`Transformer boundary crossed (${problems.length}):`);
  for (const problem of problems) console.error(`  ${problem}`);
  console.error(`A transformer may use ${CONTRACT} only; see docs/writing-a-transformer.md.`);
  process.exit(1);
}
console.log(`Transformer boundary: ${files} files in ${targets.length} packages import ${CONTRACT} only.`);
