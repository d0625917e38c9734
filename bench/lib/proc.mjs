// Child processes for servers and load generators: forked with IPC, every wait bounded by a
// timeout, and killed (by their own pid) when the orchestrator gives up on them.
import { fork } from 'node:child_process';

/** A forked child with promise helpers for its IPC messages. */
export class Child {
  /**
   * @param {string} file   script to fork
   * @param {string[]} args script arguments
   * @param {{ execArgv?: string[], env?: Record<string, string>, label: string }} options
   */
  constructor(file, args, { execArgv = [], env, label }) {
    this.label = label;
    this.inbox = [];
    this.waiters = [];
    this.stderr = '';
    this.exited = false;
    this.exitCode = null;
    this.proc = fork(file, args, { execArgv, env: env ? { ...process.env, ...env } : process.env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'json' });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (chunk) => {
      // Keep the tail only: a chatty child must not grow the orchestrator's memory.
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.proc.on('message', (msg) => this.deliver(msg));
    this.exitPromise = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exited = true;
        this.exitCode = code ?? signal;
        const err = new Error(`${this.label} exited (${this.exitCode}) while a reply was awaited${this.stderr ? `:\n${this.stderr.trim()}` : ''}`);
        for (const waiter of this.waiters.splice(0)) waiter.reject(err);
        resolve(this.exitCode);
      });
    });
    // Listeners for messages that arrive at any time (marks, failures), keyed by type.
    this.handlers = new Map();
    this.failure = null;
  }

  /** Call `fn(msg)` for every message of this type, instead of queueing it. */
  onMessage(type, fn) {
    this.handlers.set(type, fn);
  }

  deliver(msg) {
    const handler = this.handlers.get(msg?.type);
    if (handler) {
      handler(msg);
      return;
    }
    // A fatal report or a failed result ends every other wait at once instead of at its timeout.
    if (msg?.type === 'fatal' || (msg?.type === 'result' && msg.ok === false)) {
      this.failure = new Error(`${this.label}: ${msg.error ?? msg.failure}`);
      for (const waiter of this.waiters.filter((w) => w.type !== msg.type)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.reject(this.failure);
      }
    }
    const index = this.waiters.findIndex((w) => w.type === msg?.type);
    if (index !== -1) {
      const [waiter] = this.waiters.splice(index, 1);
      if (msg.type === 'fatal') waiter.reject(this.failure);
      else waiter.resolve(msg);
      return;
    }
    this.inbox.push(msg);
  }

  /** The next message of `type` within `timeoutMs`; rejects early when the child has failed. */
  waitFor(type, timeoutMs) {
    const queued = this.inbox.findIndex((m) => m.type === type);
    if (queued !== -1) return Promise.resolve(this.inbox.splice(queued, 1)[0]);
    if (this.failure) return Promise.reject(this.failure);
    if (this.exited) return Promise.reject(new Error(`${this.label} has exited (${this.exitCode})${this.stderr ? `:\n${this.stderr.trim()}` : ''}`));
    return new Promise((resolve, reject) => {
      const waiter = { type, resolve, reject };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(new Error(`${this.label}: no "${type}" within ${timeoutMs} ms${this.stderr ? `\n${this.stderr.trim()}` : ''}`));
      }, timeoutMs);
      waiter.resolve = (v) => (clearTimeout(timer), resolve(v));
      waiter.reject = (e) => (clearTimeout(timer), reject(e));
      this.waiters.push(waiter);
    });
  }

  send(msg) {
    if (!this.exited && this.proc.connected) this.proc.send(msg);
  }

  /** Send `msg` and wait for the reply of `type`. */
  request(msg, type, timeoutMs) {
    const reply = this.waitFor(type, timeoutMs);
    this.send(msg);
    return reply;
  }

  /** Ask the child to exit; kill it if it has not within `graceMs`. */
  async stop(graceMs = 5000) {
    if (this.exited) return this.exitCode;
    this.send({ cmd: 'stop' });
    const timer = setTimeout(() => {
      if (!this.exited) this.proc.kill('SIGKILL');
    }, graceMs);
    const code = await this.exitPromise;
    clearTimeout(timer);
    return code;
  }
}

/** Resolve after `ms`; used only for deliberate settling pauses, never to wait for an event. */
export function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
