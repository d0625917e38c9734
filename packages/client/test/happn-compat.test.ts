import { describe, expect, it } from '@jest/globals';
import { compile, type ClientTransport, type TransportHost } from '@primus/client';
import { json } from '@primus/parser-json';

// Client members that happn-primus plugins use, kept under happn-primus's names; the deliberate
// differences are in docs/migrating-from-happn-primus.md.

function recordingClass() {
  const seen: Array<{ transport: Record<string, unknown>; avoidWebsockets: boolean }> = [];
  const transport: ClientTransport = {
    name: 'recording',
    connect(host: TransportHost) {
      seen.push({ transport: { ...host.transportOptions }, avoidWebsockets: host.avoidWebsockets });
      return { send() {}, close() {} };
    },
  };
  return { Primus: compile({ transport, parser: json }), seen };
}

describe('happn-primus client members', () => {
  it('exposes `transport` and `AVOID_WEBSOCKETS` from the options', () => {
    const { Primus } = recordingClass();
    const options = { headers: { 'x-token': 'a' } };
    const client = new Primus('http://localhost:8080', { manual: true, transport: options, websockets: false });
    try {
      expect(client.transport).toBe(options);
      expect(client.AVOID_WEBSOCKETS).toBe(true);
      expect(new Primus('http://localhost:8080', { manual: true }).AVOID_WEBSOCKETS).toBe(false);
    } finally {
      client.destroy();
    }
  });

  it('lets a plugin change them before the client connects, as happn-primus transformers read them', () => {
    const { Primus, seen } = recordingClass();
    const client = new Primus('http://localhost:8080', { manual: true });
    try {
      client.transport.headers = { 'x-token': 'from a plugin' };
      client.AVOID_WEBSOCKETS = true;
      client.open();
      expect(seen).toEqual([{ transport: { headers: { 'x-token': 'from a plugin' } }, avoidWebsockets: true }]);
      client.transport = { replaced: true };
      client.open();
      expect(seen[1]).toEqual({ transport: { replaced: true }, avoidWebsockets: true });
    } finally {
      client.destroy();
    }
  });
});
