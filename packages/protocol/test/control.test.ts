import { describe, expect, it } from '@jest/globals';
import { control, escapeSeparators, isControl, parseControl } from '@primus/protocol';

// The control messages' wire form, as happn-primus 6.0.1 writes and reads them on both sides.

describe('control messages', () => {
  it('are formatted as primus::<type>::<value>', () => {
    expect(control('pong', 1496913600000)).toBe('primus::pong::1496913600000');
    expect(control('server', 'close')).toBe('primus::server::close');
    expect(control('id')).toBe('primus::id::');
  });

  it('split into type and value at the first colon after the prefix', () => {
    expect(parseControl('primus::server::close')).toEqual(['server', 'close']);
    expect(parseControl('primus::id::')).toEqual(['id', '']);
    expect(parseControl('primus::id::a::b')).toEqual(['id', 'a::b']);
    expect(parseControl('primus::pong')).toEqual(['pong', '']);
    expect(parseControl('primus::')).toEqual(['', '']);
  });

  it('are strings that start with the prefix, nothing else', () => {
    expect(isControl('primus::ping::1')).toBe(true);
    expect(isControl('primus:ping')).toBe(false);
    expect(isControl(' primus::ping::1')).toBe(false);
    expect(isControl({ data: 'primus::ping::1' })).toBe(false);
  });
});

describe('escapeSeparators', () => {
  it('writes U+2028 and U+2029 as JSON escapes and leaves other text as it is', () => {
    expect(escapeSeparators('"a\u2028b\u2029c"')).toBe('"a\\u2028b\\u2029c"');
    expect(JSON.parse(escapeSeparators(JSON.stringify('a\u2028b')))).toBe('a\u2028b');
    const plain = '"nothing to escape"';
    expect(escapeSeparators(plain)).toBe(plain);
  });
});
