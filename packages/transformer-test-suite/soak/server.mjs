// The soak's server: @primus/core with one transformer, echoing every message back, in a process of
// its own (started with --expose-gc) so that its heap and CPU are measured without the clients'.
//
// Parameters (one JSON argument): { transformer: '/abs/path/of/the/built/transformer.js', lifetimeMs }.
// Commands: `snapshot` ({ gc, heapSnapshot }) reports memory (after full GCs when `gc`), CPU,
// connection counts, file descriptors, sparks still alive and the server's counters, and writes a
// V8 heap snapshot to the file `heapSnapshot` names, for chasing what a failed soak retained;
// `stop` exits.
import http from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import { activeResources, collectedMemory, die, fileLimit, importCore, importTransformer, openFiles, send, serveCommands, start } from './common.mjs';

const params = start();

try {
  const { Primus } = await importCore();
  const transformer = await importTransformer(params.transformer);
  const server = http.createServer((req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const primus = new Primus(server, { transformer });

  const counters = { sparks: 0, connections: 0, disconnections: 0, flatlines: 0, skippedHeartbeats: 0, errors: 0 };
  // Every spark is watched from its construction until the garbage collector frees it: a spark
  // still alive after its connection ended and the heap was collected is a leak, whatever holds it
  // (a timer, a listener, a map in the transformer).
  let sparksCollected = 0;
  const watch = new FinalizationRegistry(() => sparksCollected++);
  primus.Spark.prototype.initialise = function watchSpark() {
    counters.sparks++;
    watch.register(this, undefined);
  };

  primus.on('connection', (spark) => {
    counters.connections++;
    spark.on('data', (data) => spark.write(data));
  });
  primus.on('disconnection', () => counters.disconnections++);
  primus.on('flatline', () => counters.flatlines++);
  primus.on('heartbeat-skipped', () => counters.skippedHeartbeats++);
  primus.on('log', (level) => {
    if (level === 'error') counters.errors++;
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  serveCommands({
    async snapshot({ gc, heapSnapshot }) {
      // CPU and the clock are read on both sides of the collection, so a measured window can
      // leave the collections' own cost out.
      const cpuBeforeGc = process.cpuUsage();
      const atBeforeGc = performance.now();
      const mem = gc ? await collectedMemory() : process.memoryUsage();
      const cpu = process.cpuUsage();
      const at = performance.now();
      if (heapSnapshot) writeHeapSnapshot(heapSnapshot);
      const sockets = await new Promise((resolve) => server.getConnections((err, n) => resolve(err ? -1 : n)));
      return {
        mem,
        cpuBeforeGc,
        atBeforeGc,
        cpu,
        at,
        connected: primus.connected,
        sparks: Object.keys(primus.connections).length,
        sockets,
        fds: openFiles(),
        sparksAlive: counters.sparks - sparksCollected,
        counters: { ...counters },
        resources: activeResources(),
      };
    },
  });
  send({ type: 'ready', port: server.address().port, pid: process.pid, fileLimit: fileLimit(), fds: openFiles() });
} catch (err) {
  die(err);
}
