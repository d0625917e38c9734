#!/usr/bin/env node
// Checks what npm shows about every published @primus/* package: the MIT license with its
// LICENSE file in the tarball, and `repository` (with the package's directory), `homepage`,
// `bugs` and `keywords` pointing at this repository.
//
//   node scripts/check-package-metadata.mjs         report what is missing or wrong
//   node scripts/check-package-metadata.mjs --fix   write the fields and copy LICENSE (not keywords)
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspacePackages } from './check-release-plan.mjs';

/** Where this repository lives; every package's links are derived from it. */
export const REPOSITORY = 'https://github.com/primus-ts/primus';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The fields a published package must have, for the package in `dir`. */
export function expectedFields(dir) {
  const directory = path.relative(root, dir).split(path.sep).join('/');
  return {
    license: 'MIT',
    repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory },
    homepage: `${REPOSITORY}/tree/main/${directory}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
  };
}

/** Set `json[field]`; a new field goes after `license` and the fields set before it, in that order. */
function place(json, field, value) {
  const order = ['license', ...Object.keys(expectedFields(root)).filter((f) => f !== 'license')];
  if (field in json || !('license' in json)) {
    json[field] = value;
    return;
  }
  const before =
    order
      .slice(0, order.indexOf(field))
      .filter((f) => f in json)
      .pop() ?? 'license';
  const entries = Object.entries(json);
  for (const key of Object.keys(json)) delete json[key];
  for (const [key, v] of entries) {
    json[key] = v;
    if (key === before) json[field] = value;
  }
}

/** The problems with the published packages of the workspace; an empty list when all is well. */
export function checkMetadata(packages = workspacePackages(), { fix = false } = {}) {
  const problems = [];
  const license = readFileSync(path.join(root, 'LICENSE'), 'utf8');
  for (const { dir, json } of packages) {
    if (json.private) continue;
    const where = path.relative(root, path.join(dir, 'package.json'));
    let changed = false;
    for (const [field, value] of Object.entries(expectedFields(dir))) {
      if (JSON.stringify(json[field]) === JSON.stringify(value)) continue;
      if (fix) {
        place(json, field, value);
        changed = true;
      } else problems.push(`${where}: "${field}" should be ${JSON.stringify(value)}, is ${JSON.stringify(json[field])}`);
    }
    if (!Array.isArray(json.keywords) || !json.keywords.includes('primus')) {
      problems.push(`${where}: "keywords" should be a list that includes "primus", is ${JSON.stringify(json.keywords)}`);
    }
    if (!Array.isArray(json.files) || !json.files.includes('LICENSE')) {
      if (fix && Array.isArray(json.files)) {
        json.files.push('LICENSE');
        changed = true;
      } else problems.push(`${where}: "files" should list "LICENSE"`);
    }
    const copy = path.join(dir, 'LICENSE');
    if (!existsSync(copy) || readFileSync(copy, 'utf8') !== license) {
      if (fix) copyFileSync(path.join(root, 'LICENSE'), copy);
      else problems.push(`${path.relative(root, copy)} should be a copy of the root LICENSE`);
    }
    if (changed) writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(json, null, 2)}\n`);
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkMetadata(undefined, { fix: process.argv.includes('--fix') });
  if (problems.length) {
    console.error(`Package metadata check failed (node scripts/check-package-metadata.mjs --fix writes the fields):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('Package metadata: every published package has its license, LICENSE file, repository, homepage, bugs and keywords.');
}
