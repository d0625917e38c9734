import { describe, expect, it } from '@jest/globals';
import { connectionError, describeValue, invalidValue, optionChecker, parseDuration, PrimusError, type OptionChecker } from '@primus/protocol';

const check: OptionChecker = optionChecker('@acme/plugin');

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('optionChecker', () => {
  it('returns good values, and the default for undefined', () => {
    expect(check.integer('n', 5, { min: 1 })).toBe(5);
    expect(check.integer('n', undefined, { min: 1, default: 7 })).toBe(7);
    expect(check.number('ratio', 0.5, { min: 0, max: 1 })).toBe(0.5);
    expect(check.duration('wait', '2s')).toBe(2000);
    expect(check.duration('wait', 150)).toBe(150);
    expect(check.boolean('on', false, { default: true })).toBe(false);
    expect(check.string('name', 'x', { nonEmpty: true })).toBe('x');
    expect(check.oneOf('mode', 'fast', ['fast', 'safe'] as const)).toBe('fast');
    const fn = (): void => {};
    expect(check.function('hook', fn)).toBe(fn);
    expect(check.options(undefined)).toEqual({});
  });

  it.each<[string, () => unknown, string]>([
    ['a positive integer', () => check.integer('interval', 0, { min: 1, unit: 'ms' }), 'option "interval" must be a positive integer number of ms, got 0'],
    ['a bounded integer', () => check.integer('size', 1.5, { min: 1, max: 10 }), 'option "size" must be an integer from 1 to 10, got 1.5'],
    ['a non-negative number', () => check.number('delay', -1, { min: 0 }), 'option "delay" must be a non-negative number, got -1'],
    ['a number that is NaN', () => check.number('delay', Number.NaN), 'option "delay" must be a number, got NaN'],
    ['a duration', () => check.duration('wait', 'soon'), 'option "wait" must be a number of ms or a duration such as "30s", got "soon"'],
    ['a boolean', () => check.boolean('on', 'yes'), 'option "on" must be a boolean, got "yes"'],
    ['a string', () => check.string('id', 5), 'option "id" must be a string, got 5'],
    ['one of a list', () => check.oneOf('mode', 'slow', ['fast', 'safe']), 'option "mode" must be one of "fast", "safe", got "slow"'],
    ['a function', () => check.function('hook', {}), 'option "hook" must be a function, got an object'],
    ['an options object', () => check.options([] as never), 'option "options" must be an object, got an array'],
    ['a required value', () => check.integer('port', undefined), 'option "port" must be an integer, got undefined'],
  ])('refuses what is not %s with PRIMUS_ERR_INVALID_OPTION, naming the owner and the option', (_what, fn, message) => {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('PRIMUS_ERR_INVALID_OPTION');
    expect(err.message).toBe(`@acme/plugin: ${message}`);
  });

  it('fail() throws the same error with a sentence of its own', () => {
    expect(thrown(() => check.fail('url', 'a redis:// URL', 'http://x'))).toMatchObject({
      name: 'TypeError',
      code: 'PRIMUS_ERR_INVALID_OPTION',
      message: '@acme/plugin: option "url" must be a redis:// URL, got "http://x"',
    });
  });
});

describe('invalidValue, describeValue and parseDuration', () => {
  it('word values for messages', () => {
    expect(invalidValue('options.strategy', 'a string', 42).message).toBe('Primus: options.strategy must be a string, got 42');
    expect([null, [1], { a: 1 }, () => 1, 'x', undefined].map(describeValue)).toEqual(['null', 'an array', 'an object', 'a function', '"x"', 'undefined']);
    expect([parseDuration('1.5 minutes'), parseDuration('30 days'), parseDuration('soon'), parseDuration(null)]).toEqual([90000, 2592000000, NaN, NaN]);
  });
});

describe('connectionError', () => {
  it('keeps an Error with a code of its own and wraps everything else as PRIMUS_ERR_CONNECTION', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(connectionError(refused)).toBe(refused);
    const plain = new Error('socket hang up');
    expect(connectionError(plain)).toMatchObject({ code: 'PRIMUS_ERR_CONNECTION', message: 'socket hang up', cause: plain });
    expect(connectionError(plain)).toBeInstanceOf(PrimusError);
    expect(connectionError('gone')).toMatchObject({ code: 'PRIMUS_ERR_CONNECTION', message: 'gone', cause: 'gone' });
    const event = { reason: 'closed', code: 1006 };
    expect(connectionError(event)).toMatchObject({ code: 'PRIMUS_ERR_CONNECTION', message: 'closed', cause: event });
  });

  it('says "Connection error" for an event that carries no message, and keeps the event as the cause', () => {
    // What a browser's WebSocket reports: an Event with a type and nothing about the failure.
    const event = { type: 'error' };
    expect(connectionError(event)).toMatchObject({ code: 'PRIMUS_ERR_CONNECTION', message: 'Connection error', cause: event });
    // Nothing at all, from a socket that reports its failure without an argument.
    expect(connectionError(undefined)).toMatchObject({ code: 'PRIMUS_ERR_CONNECTION', message: 'Connection error' });
    expect(connectionError(null).message).toBe('Connection error');
  });
});
