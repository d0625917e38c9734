// Type test (compiled, never run): server options as a user's project sees them. A line after
// `// @ts-expect-error <code>` must fail with that TypeScript error code; test/types.test.ts checks
// it against the built declarations.
import type { Server } from 'node:http';
import { createServer, Primus, type PrimusOptions } from '@primus/core';

declare const server: Server;

// A plugin's own option, declared as the README documents.
declare module '@primus/core' {
  interface PrimusOptions {
    rooms?: { maxRooms?: number };
  }
}

new Primus(server, { transformer: 'websockets', parser: 'json', pathname: '/live', timeout: false });
new Primus(server, { transport: 'websockets', maxLength: 1024, trustedProxies: ['loopback'] });
const withRooms = new Primus(server, { rooms: { maxRooms: 10 } });
const maxRooms: number | undefined = withRooms.options.rooms?.maxRooms;
void maxRooms;
Primus.createServer({ port: 0, listen: false, transformer: 'websockets' });
Primus.createSocket({ transformer: 'websockets', authorization: true });
createServer((spark) => spark.write('hi'), { port: 0 });
const options: PrimusOptions = { pathname: '/primus' };
new Primus(server, options);

// @ts-expect-error 2561 a misspelt option
new Primus(server, { transfomer: 'ws' });
// @ts-expect-error 2353 an option that does not exist
new Primus(server, { pingInterval: 1000 });
// @ts-expect-error 2322 an option of the wrong type
new Primus(server, { timeout: '35s' });
// @ts-expect-error 2561 a misspelt option of a plugin's own
new Primus(server, { rooms: { maxRoom: 10 } });
// @ts-expect-error 2353 a misspelt option given to createServer()
Primus.createServer({ port: 0, transfomer: 'ws' });
// @ts-expect-error 2561 a misspelt option given to createSocket()
Primus.createSocket({ transfomer: 'ws' });
// @ts-expect-error 2353 a misspelt option given to the createServer() function
createServer({ port: 0, pathnme: '/live' });
// @ts-expect-error 2561 a misspelt option in a typed variable
const misspelt: PrimusOptions = { pathnme: '/live' };
void misspelt;
// @ts-expect-error 2353 a misspelt option of destroy()
new Primus(server).destroy({ reconect: true });
// @ts-expect-error 2561 a misspelt option of spark.end()
new Primus(server).spark('id')?.end(undefined, { reconect: true });
