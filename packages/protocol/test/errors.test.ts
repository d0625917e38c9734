import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import path from 'node:path';
import { invalidOption, ParserError, parserError, PrimusError } from '@primus/protocol';

// The built packages, resolved the way an application resolves them: each package's dist requires
// @primus/protocol by name, so this checks that the server and the client share one class.
const requireBuilt = createRequire(__filename);
const built = (name: string) => requireBuilt(path.join(__dirname, '..', '..', name, 'dist', 'index.cjs'));

describe('one set of error classes for the server and the client', () => {
  it('an error the built core throws is an instance of the built client PrimusError', () => {
    const core = built('core');
    const client = built('client');
    let error: unknown;
    try {
      new core.Primus(undefined, { transformer: 'no-such-transformer' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(client.PrimusError);
    expect(error).toBeInstanceOf(core.PrimusError);
    expect(client.PrimusError).toBe(core.PrimusError);
    expect(client.ParserError).toBe(core.ParserError);
  });

  it('ParserError is a PrimusError with its name, code and cause', () => {
    const cause = new SyntaxError('Unexpected token');
    const error = new ParserError('PRIMUS_ERR_PARSER_DECODE', 'could not decode', { cause });
    expect(error).toBeInstanceOf(PrimusError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'ParserError', code: 'PRIMUS_ERR_PARSER_DECODE', message: 'could not decode' });
    expect(error.cause).toBe(cause);
  });

  it('parserError() reads the message of whatever the parser threw', () => {
    const thrown = new SyntaxError('Unexpected token');
    expect(parserError('PRIMUS_ERR_PARSER_DECODE', thrown)).toMatchObject({ message: 'Failed to decode incoming data: Unexpected token', cause: thrown });
    expect(parserError('PRIMUS_ERR_PARSER_ENCODE', { message: 'cyclic' }).message).toBe('Failed to encode outgoing data: cyclic');
    expect(parserError('PRIMUS_ERR_PARSER_DECODE', 'truncated').message).toBe('Failed to decode incoming data: truncated');
    // Not "[object Object]".
    expect(parserError('PRIMUS_ERR_PARSER_DECODE', {}).message).toBe('Failed to decode incoming data: Unknown error');
  });

  it('invalidOption names the option, what it must be and what it got', () => {
    expect(invalidOption('timeout', 'a number', 'soon')).toMatchObject({
      name: 'TypeError',
      code: 'PRIMUS_ERR_INVALID_OPTION',
      message: 'Primus: option "timeout" must be a number, got "soon"',
    });
    expect(invalidOption('server', 'an http.Server', {}).message).toBe('Primus: option "server" must be an http.Server, got an object');
    expect(invalidOption('server', 'an http.Server', null).message).toBe('Primus: option "server" must be an http.Server, got null');
    expect(invalidOption('pingInterval', 'a number', false).message).toBe('Primus: option "pingInterval" must be a number, got false');
  });
});
