// Clients built by one compiled class share one V8 hidden class, so that the client's property
// accesses stay monomorphic where a process opens many clients (a load generator, a server that
// talks to other servers). Checked in a child process with V8's natives syntax: `%HaveSameMap`
// compares two objects' hidden classes.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

const SCRIPT = `
const { Primus } = require('@primus/client');
const url = (n) => 'http://localhost:' + n;
const made = [new Primus(url(1), { manual: true }), new Primus(url(2), { manual: true }), Primus(url(3), { manual: true })];
class Custom extends Primus {}
const custom = [new Custom(url(4), { manual: true }), new Custom(url(5), { manual: true })];
const same = (a, b) => %HaveSameMap(a, b);
process.stdout.write(JSON.stringify({
  newAndNew: same(made[0], made[1]),
  newAndCall: same(made[0], made[2]),
  subclass: same(custom[0], custom[1]),
}));
for (const client of [...made, ...custom]) client.end();
`;

describe('clients of one compiled class', () => {
  it('share one hidden class, constructed with or without new, and so do a subclass’s', () => {
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '-e', SCRIPT], { cwd: __dirname, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ newAndNew: true, newAndCall: true, subclass: true });
  });
});
