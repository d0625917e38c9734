import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryRecoveryRecord, MemoryRecoveryStore, RECOVERY_DEFAULTS, resolveRecovery, type RecoveryStore } from '@primus/core';
import { cleanup, detached } from './helpers';

afterEach(cleanup);

describe('the recovery option', () => {
  it('is off by default, and true takes the documented defaults', () => {
    expect(detached().options.recovery).toBe(false);
    const on = detached({ recovery: true }).options.recovery;
    expect(on).toMatchObject({ window: 120_000, maxMessages: 10_000, maxBytes: 8 * 1024 * 1024 });
    expect(on && on.store).toBeInstanceOf(MemoryRecoveryStore);
    expect(RECOVERY_DEFAULTS).toEqual({ window: 120_000, maxMessages: 10_000, maxBytes: 8 * 1024 * 1024 });
  });

  it('takes window as ms or a duration string, and a store of its own', () => {
    const store: RecoveryStore = { create: (_id, limits) => new MemoryRecoveryRecord(limits), resume: () => undefined };
    const resolved = resolveRecovery({ window: '2 minutes', maxMessages: 8, maxBytes: 100, store });
    expect(resolved).toMatchObject({ window: 120_000, maxMessages: 8, maxBytes: 100, ackEvery: 2 });
    expect(resolved && resolved.store).toBe(store);
    expect(resolveRecovery({ window: 500 })).toMatchObject({ window: 500, ackEvery: 256 });
  });

  it.each([
    ['recovery', 'yes'],
    ['recovery', 3],
    ['recovery.window', { window: 0 }],
    ['recovery.window', { window: 'soon' }],
    ['recovery.window', { window: Infinity }],
    ['recovery.maxMessages', { maxMessages: 0 }],
    ['recovery.maxMessages', { maxMessages: 1.5 }],
    ['recovery.maxBytes', { maxBytes: -1 }],
    ['recovery.store', { store: {} }],
    ['recovery.windw', { windw: 10 }],
  ])('throws a TypeError naming %s for %p', (name, value) => {
    expect(() => detached({ recovery: value as never })).toThrow(TypeError);
    expect(() => detached({ recovery: value as never })).toThrow(`option "${name}"`);
  });
});

describe('MemoryRecoveryRecord', () => {
  const limits = { window: 1000, maxMessages: 4, maxBytes: 1000 };

  it('replays what follows a point, and acknowledgements free what they cover', () => {
    const record = new MemoryRecoveryRecord(limits);
    for (let seq = 1; seq <= 3; seq++) record.append(seq, `m${seq}`);
    expect(record.replay(0)).toEqual(['m1', 'm2', 'm3']);
    expect(record.replay(2)).toEqual(['m3']);
    expect(record.replay(3)).toEqual([]);
    record.ack(2);
    expect(record.size).toBe(1);
    expect(record.byteSize).toBe(2);
    expect(record.replay(2)).toEqual(['m3']);
    expect(record.replay(1)).toBeUndefined();
    record.ack(3);
    expect(record.size).toBe(0);
    expect(record.byteSize).toBe(0);
  });

  it('drops its oldest messages past maxMessages, and then cannot replay from before them', () => {
    const record = new MemoryRecoveryRecord(limits);
    for (let seq = 1; seq <= 6; seq++) record.append(seq, `m${seq}`);
    expect(record.size).toBe(4);
    expect(record.replay(2)).toEqual(['m3', 'm4', 'm5', 'm6']);
    expect(record.replay(1)).toBeUndefined();
  });

  it('drops its oldest messages past maxBytes, counting bytes of binary payloads', () => {
    const record = new MemoryRecoveryRecord({ ...limits, maxBytes: 10 });
    record.append(1, new Uint8Array(6));
    record.append(2, new Uint8Array(6));
    expect(record.size).toBe(1);
    expect(record.byteSize).toBe(6);
    expect(record.replay(0)).toBeUndefined();
    expect(record.replay(1)).toHaveLength(1);
  });

  it('stays bounded over a long run that is never acknowledged', () => {
    const record = new MemoryRecoveryRecord(limits);
    for (let seq = 1; seq <= 100_000; seq++) record.append(seq, 'x');
    expect(record.size).toBe(4);
    expect((record as unknown as { messages: unknown[] }).messages.length).toBeLessThan(200);
    expect(record.replay(99_996)).toEqual(['x', 'x', 'x', 'x']);
  });

  it('the memory store resumes nothing on its own: a session lives with its spark', () => {
    expect(new MemoryRecoveryStore().resume()).toBeUndefined();
  });
});
