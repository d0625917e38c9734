import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { PrimusError, type AttemptDone, type ReconnectAttempt } from '@primus/client';
import { parseDuration } from '@primus/protocol';
import { Recovery } from '../src/recovery';

/** Fail every attempt right away, the way a refused connection does. */
function failEveryAttempt(recovery: Recovery): void {
  recovery.on('reconnect', (_opts: ReconnectAttempt, done: AttemptDone) => done(new Error('refused')));
}

describe('Recovery back-off', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('waits exactly `min` before the first attempt, whatever Math.random says', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.99);
    const recovery = new Recovery({ min: 300 });
    const reconnect = jest.fn();
    recovery.on('reconnect', reconnect);
    const scheduled = jest.fn<(opts: ReconnectAttempt) => void>();
    recovery.on('reconnect scheduled', scheduled);

    recovery.reconnect();
    expect(scheduled).toHaveBeenCalledTimes(1);
    expect(scheduled.mock.calls[0]![0]).toMatchObject({ attempt: 1, scheduled: 300, backoff: true });

    jest.advanceTimersByTime(299);
    expect(reconnect).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(reconnect).toHaveBeenCalledTimes(1);
  });

  it('waits (1 + random) * min * factor^(n-1) for later attempts', () => {
    const random = jest.spyOn(Math, 'random');
    random.mockReturnValueOnce(0.25).mockReturnValueOnce(0.5).mockReturnValueOnce(0);
    const recovery = new Recovery({ min: 100, factor: 3, retries: 10 });
    failEveryAttempt(recovery);
    const delays: number[] = [];
    recovery.on('reconnect scheduled', (opts: ReconnectAttempt) => delays.push(opts.scheduled));

    recovery.reconnect();
    jest.advanceTimersByTime(100);
    jest.advanceTimersByTime(delays[1]!);
    jest.advanceTimersByTime(delays[2]!);

    // attempt 2: 1.25 * 100 * 3; attempt 3: 1.5 * 100 * 9; attempt 4: 1 * 100 * 27
    expect(delays).toEqual([100, 375, 1350, 2700]);
  });

  it('keeps every delay within [min * factor^(n-1), 2 * min * factor^(n-1)] with the default factor', () => {
    for (const value of [0, 0.5, 0.999999]) {
      jest.spyOn(Math, 'random').mockReturnValue(value);
      const recovery = new Recovery({ min: 50, retries: 6 });
      failEveryAttempt(recovery);
      const seen: ReconnectAttempt[] = [];
      recovery.on('reconnect scheduled', (opts: ReconnectAttempt) => seen.push({ ...opts }));
      recovery.reconnect();
      while (recovery.reconnecting()) jest.advanceTimersByTime(seen[seen.length - 1]!.scheduled);

      expect(seen.map((opts) => opts.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
      for (const opts of seen) {
        const base = 50 * 2 ** (opts.attempt - 1);
        if (opts.attempt === 1) expect(opts.scheduled).toBe(50);
        else {
          expect(opts.scheduled).toBeGreaterThanOrEqual(base);
          expect(opts.scheduled).toBeLessThanOrEqual(2 * base);
        }
      }
      jest.restoreAllMocks();
    }
  });

  it('caps every delay at `max`', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.9);
    const recovery = new Recovery({ min: 100, max: 250, retries: 5 });
    failEveryAttempt(recovery);
    const delays: number[] = [];
    recovery.on('reconnect scheduled', (opts: ReconnectAttempt) => delays.push(opts.scheduled));
    recovery.reconnect();
    jest.advanceTimersByTime(10000);
    expect(delays).toEqual([100, 250, 250, 250, 250]);
  });

  it('makes at most `retries` attempts, then fails with "Unable to recover"', () => {
    const recovery = new Recovery({ min: 10, max: 10, retries: 3 });
    const attempts: number[] = [];
    // Recorded before the failing listener: the attempt object is shared and moves on when it fails.
    recovery.on('reconnect', (opts: ReconnectAttempt) => attempts.push(opts.attempt));
    failEveryAttempt(recovery);
    const failed = jest.fn<(err: Error, opts: ReconnectAttempt) => void>();
    recovery.on('reconnect failed', failed);

    recovery.reconnect();
    jest.advanceTimersByTime(1000);

    expect(attempts).toEqual([1, 2, 3]);
    expect(failed).toHaveBeenCalledTimes(1);
    const [err, opts] = failed.mock.calls[0]!;
    expect(err).toBeInstanceOf(PrimusError);
    expect(err).toMatchObject({ code: 'PRIMUS_ERR_RECONNECT_FAILED', message: 'Unable to recover' });
    expect(opts.attempt).toBe(3);
    expect(recovery.reconnecting()).toBe(false);
  });

  it('ignores a second backoff() with the same opts while the first delay runs', () => {
    const recovery = new Recovery({ min: 100 });
    const opts: Partial<ReconnectAttempt> = {};
    const first = jest.fn();
    const second = jest.fn();

    expect(recovery.backoff(first, opts)).toBe(recovery);
    expect(recovery.backoff(second, opts)).toBe(recovery);
    expect(opts.attempt).toBe(1);

    jest.advanceTimersByTime(1000);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).not.toHaveBeenCalled();
  });

  it('gives up an attempt after `reconnect timeout` ms and schedules the next one, keeping the count', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const recovery = new Recovery({ min: 100, 'reconnect timeout': 5000 });
    const attempts: number[] = [];
    recovery.on('reconnect', (opts: ReconnectAttempt) => attempts.push(opts.attempt));
    const timedOut = jest.fn<(err: Error, opts: ReconnectAttempt) => void>();
    recovery.on('reconnect timeout', timedOut);
    const scheduled: number[] = [];
    recovery.on('reconnect scheduled', (opts: ReconnectAttempt) => scheduled.push(opts.attempt));

    recovery.reconnect();
    jest.advanceTimersByTime(100);
    expect(attempts).toEqual([1]);

    jest.advanceTimersByTime(4999);
    expect(timedOut).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(timedOut).toHaveBeenCalledTimes(1);
    expect(timedOut.mock.calls[0]![0]).toMatchObject({ name: 'PrimusError', code: 'PRIMUS_ERR_RECONNECT_TIMEOUT', message: 'Failed to reconnect in a timely manner' });
    expect(scheduled).toEqual([1, 2]);

    jest.advanceTimersByTime(200);
    expect(attempts).toEqual([1, 2]);
  });

  it('emits reconnected once an attempt succeeds and forgets the run', () => {
    const recovery = new Recovery({ min: 10 });
    recovery.on('reconnect', (_opts: ReconnectAttempt, done: AttemptDone) => done());
    const reconnected = jest.fn();
    recovery.on('reconnected', reconnected);
    recovery.reconnect();
    jest.advanceTimersByTime(10);
    expect(reconnected).toHaveBeenCalledTimes(1);
    expect(recovery.attempt).toBeNull();
    expect(recovery.reconnecting()).toBe(false);
    // The attempt's timeout was cancelled along with the run.
    const timedOut = jest.fn();
    recovery.on('reconnect timeout', timedOut);
    jest.advanceTimersByTime(60000);
    expect(timedOut).not.toHaveBeenCalled();
  });

  it('does not stall when an attempt ends without an error before its timeout', () => {
    // A socket that closes without an error makes the client call reconnect() while the attempt's
    // 30 s timeout is still armed. The next delay here is longer than what is left of that
    // timeout, so a leftover timeout would fire first and cancel the new schedule.
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const recovery = new Recovery({ min: 20000, retries: 5 });
    const attempts: number[] = [];
    recovery.on('reconnect', (opts: ReconnectAttempt) => {
      attempts.push(opts.attempt);
      if (opts.attempt === 1) setTimeout(() => recovery.reconnect(), 10);
    });
    const timedOut = jest.fn();
    recovery.on('reconnect timeout', timedOut);

    recovery.reconnect();
    jest.advanceTimersByTime(20000 + 10);
    expect(recovery.attempt?.scheduled).toBe(60000);

    jest.advanceTimersByTime(60000);
    expect(timedOut).not.toHaveBeenCalled();
    expect(attempts).toEqual([1, 2]);
  });

  it('cancels the pending attempt on reset()', () => {
    const recovery = new Recovery({ min: 10 });
    const reconnect = jest.fn();
    recovery.on('reconnect', reconnect);
    recovery.reconnect();
    recovery.reset();
    jest.advanceTimersByTime(1000);
    expect(reconnect).not.toHaveBeenCalled();
    expect(recovery.reconnecting()).toBe(false);
  });
});

describe('Recovery options', () => {
  it('uses the happn-primus defaults', () => {
    jest.useFakeTimers();
    try {
      const recovery = new Recovery();
      const opts: Partial<ReconnectAttempt> = {};
      recovery.backoff(() => {}, opts);
      expect(opts).toMatchObject({ min: 500, max: Infinity, retries: 10, factor: 2, 'reconnect timeout': 30000 });
      recovery.reset();
    } finally {
      jest.useRealTimers();
    }
  });

  it('accepts human-readable durations', () => {
    expect(parseDuration('30 seconds')).toBe(30000);
    expect(parseDuration('2 minutes')).toBe(120000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('250 ms')).toBe(250);
    expect(parseDuration('400')).toBe(400);
    expect(parseDuration('soon')).toBeNaN();

    jest.useFakeTimers();
    try {
      const recovery = new Recovery({ min: '2 seconds', 'reconnect timeout': '1 minute' } as never);
      const opts: Partial<ReconnectAttempt> = {};
      recovery.backoff(() => {}, opts);
      expect(opts.scheduled).toBe(2000);
      expect(opts['reconnect timeout']).toBe(60000);
      recovery.reset();
    } finally {
      jest.useRealTimers();
    }
  });

  it.each([
    ['min', 'soon', /options\.reconnect\.min\b/],
    ['max', -1, /options\.reconnect\.max\b/],
    ['retries', {}, /options\.reconnect\.retries\b/],
    ['factor', 0.5, /options\.reconnect\.factor\b/],
    ['reconnect timeout', 'later', /options\.reconnect\['reconnect timeout'\]/],
  ])('throws a TypeError naming reconnect.%s for a bad value', (key, value, message) => {
    expect(() => new Recovery({ [key]: value } as never)).toThrow(TypeError);
    expect(() => new Recovery({ [key]: value } as never)).toThrow(message);
  });
});
