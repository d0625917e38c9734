import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import websockets from '@primus/transformer-ws';
import { createServer, Primus, type Spark } from '@primus/core';
import { nextSpark, once } from '@primus/transformer-test-suite';

const made: Primus[] = [];

/** Primus.createServer, remembered for clean-up. */
function create(...args: Parameters<typeof Primus.createServer>): Primus {
  const primus = Primus.createServer(...args);
  made.push(primus);
  return primus;
}

async function portOf(primus: Primus): Promise<number> {
  if (!primus.server!.listening) await once(primus.server!, 'listening');
  return (primus.server!.address() as AddressInfo).port;
}

let warn: ReturnType<typeof jest.spyOn>;

beforeEach(() => {
  warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
});

afterEach(async () => {
  warn.mockRestore();
  await Promise.all(
    made.splice(0).map((primus) => {
      const server = primus.server;
      return new Promise<void>((resolve) => {
        primus.destroy(() => resolve());
        (server as http.Server | null)?.closeAllConnections();
      });
    }),
  );
});

describe('Primus.createServer()', () => {
  it('builds the exported Primus class, as the createServer export does', () => {
    const primus = create({ port: 0, transformer: websockets, iknowhttpsisbetter: true, listen: false });
    expect(primus).toBeInstanceOf(Primus);
    const viaExport = createServer({ port: 0, transformer: websockets, iknowhttpsisbetter: true, listen: false });
    made.push(viaExport);
    expect(viaExport).toBeInstanceOf(Primus);
  });

  it('builds an instance of a class that extends Primus', () => {
    class Chat extends Primus {
      rooms(): string[] {
        return ['lobby'];
      }
    }
    const chat = Chat.createServer({ port: 0, transformer: websockets, iknowhttpsisbetter: true, listen: false });
    made.push(chat);
    expect(chat).toBeInstanceOf(Chat);
    expect(chat.rooms()).toEqual(['lobby']);
  });

  it('serves plain HTTP on the given port, warns about it, and hands connections to the callback', async () => {
    const primus = create((spark: Spark) => spark.write('welcome'), { port: 0, transformer: websockets });
    expect(primus.server).toBeInstanceOf(http.Server);
    const port = await portOf(primus);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/plain HTTP[\s\S]*iknowhttpsisbetter/);

    const client = new primus.Socket(`http://127.0.0.1:${port}`);
    try {
      expect((await once(client, 'data'))[0]).toBe('welcome');
    } finally {
      client.destroy();
    }
  });

  it('does not warn with iknowhttpsisbetter', async () => {
    const primus = create({ port: 0, transformer: websockets, iknowhttpsisbetter: true });
    await portOf(primus);
    expect(warn).not.toHaveBeenCalled();
  });

  it('passes Primus options through', async () => {
    const primus = create({ port: 0, transformer: websockets, iknowhttpsisbetter: true, pathname: '/rt' });
    expect(primus.pathname).toBe('/rt');
    expect(primus.spec.transformer).toBe('websockets');
  });

  it('does not listen with listen: false', () => {
    const primus = create({ port: 0, transformer: websockets, iknowhttpsisbetter: true, listen: false });
    expect(primus.server!.listening).toBe(false);
  });

  it.each([[{ port: 443 }], [{}]])('refuses to serve HTTPS without a key and certificate (%p)', (options) => {
    expect(() => Primus.createServer({ transformer: websockets, ...options })).toThrow(expect.objectContaining({ name: 'PrimusError', code: 'PRIMUS_ERR_HTTPS' }));
    expect(() => Primus.createServer({ transformer: websockets, ...options })).toThrow(/SSL key or certificate/);
  });

  describe('over HTTPS', () => {
    let dir = '';

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'primus-tls-'));
      // A throw-away self-signed certificate; `openssl` must be on the PATH.
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the key and certificate from files under root and serves clients over TLS', async () => {
      const primus = create({ port: 0, root: dir, key: 'key.pem', cert: 'cert.pem', transformer: websockets });
      expect(primus.server).toBeInstanceOf(https.Server);
      const port = await portOf(primus);
      expect(warn).not.toHaveBeenCalled();

      primus.on('connection', (spark: Spark) => spark.on('data', (data) => spark.write({ echo: data })));
      const sparkReady = nextSpark(primus);
      const client = new primus.Socket(`https://127.0.0.1:${port}`, { transport: { rejectUnauthorized: false } });
      try {
        client.write('secret');
        expect((await once(client, 'data'))[0]).toEqual({ echo: 'secret' });
        expect((await sparkReady).address.secure).toBe(true);
      } finally {
        client.destroy();
      }
    });

    it('accepts PEM text instead of file names', async () => {
      const primus = create({
        port: 0,
        key: readFileSync(join(dir, 'key.pem'), 'utf8'),
        cert: readFileSync(join(dir, 'cert.pem')),
        transformer: websockets,
      });
      const port = await portOf(primus);
      const spec = await new Promise<string>((resolve, reject) => {
        https
          .get(`https://127.0.0.1:${port}/primus/spec`, { rejectUnauthorized: false }, (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
      expect(JSON.parse(spec)).toMatchObject({ pathname: '/primus', transformer: 'websockets' });
    });

    it('refuses a client that checks the self-signed certificate', async () => {
      const primus = create({ port: 0, root: dir, key: 'key.pem', cert: 'cert.pem', transformer: websockets });
      const port = await portOf(primus);
      let connections = 0;
      primus.on('connection', () => connections++);
      const client = new primus.Socket(`https://127.0.0.1:${port}`, { strategy: false });
      try {
        const [err] = await once<[Error]>(client, 'error');
        expect(err.message).toMatch(/self-signed certificate/);
        expect(connections).toBe(0);
      } finally {
        client.destroy();
      }
    });
  });
});
