/**
 * BinaryPack, the format of happn-primus 6.0.1's `binary` parser (binarypack 0.0.4 on Node,
 * js-binarypack 0.0.9 in browsers): MessagePack's early layout, with strings (`0xb0`-`0xbf`,
 * `0xd8`, `0xd9`) told apart from raw bytes (`0xa0`-`0xaf`, `0xda`, `0xdb`), `0xc1` for
 * `undefined`, and no extension types. Written afresh for Uint8Array and DataView so that one
 * codec runs on Node and in browsers.
 */

/** Deeper than this is refused both ways: a cycle when encoding, a hostile message when decoding. */
export const MAX_DEPTH = 1000;

const textEncoder = new TextEncoder();
// Not fatal: binarypack decoded strings with Buffer#toString, which replaces bad sequences.
const textDecoder = new TextDecoder('utf-8');

type NumberForm = 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32' | 'f64';
const SIZES: Record<NumberForm, number> = { u8: 1, u16: 2, u32: 4, i8: 1, i16: 2, i32: 4, f64: 8 };
const SETTERS: Record<NumberForm, (this: DataView, at: number, value: number) => void> = {
  u8: DataView.prototype.setUint8,
  u16: DataView.prototype.setUint16,
  u32: DataView.prototype.setUint32,
  i8: DataView.prototype.setInt8,
  i16: DataView.prototype.setInt16,
  i32: DataView.prototype.setInt32,
  f64: DataView.prototype.setFloat64,
};

class Writer {
  bytes = new Uint8Array(1024);
  view = new DataView(this.bytes.buffer);
  pos = 0;

  reserve(size: number): void {
    if (this.pos + size <= this.bytes.length) return;
    const bytes = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + size));
    bytes.set(this.bytes.subarray(0, this.pos));
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
  }

  u8(value: number): void {
    this.reserve(1);
    this.bytes[this.pos++] = value;
  }

  /** A type byte and a big-endian number. */
  number(type: number, form: NumberForm, value: number): void {
    const size = SIZES[form];
    this.reserve(1 + size);
    const at = this.pos + 1;
    this.bytes[this.pos] = type;
    this.pos += 1 + size;
    SETTERS[form].call(this.view, at, value);
  }

  /** Let go of a buffer a large message grew, so the shared writer does not hold on to it. */
  shrink(): void {
    if (this.bytes.length <= 1 << 16) return;
    this.bytes = new Uint8Array(1024);
    this.view = new DataView(this.bytes.buffer);
  }

  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A header: the fixed form up to 15, then 16 and 32 bits of length. */
  header(fixed: number, type16: number, type32: number, length: number, what: string): void {
    if (length <= 0x0f) this.u8(fixed + length);
    else if (length <= 0xffff) this.number(type16, 'u16', length);
    else if (length <= 0xffffffff) this.number(type32, 'u32', length);
    else throw new RangeError(`BinaryPack cannot encode a ${what} of length ${length}`);
  }
}

const tag = (value: unknown): string => Object.prototype.toString.call(value);

/** Plain objects (of any realm): a prototype that is null or a realm's Object.prototype. */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** The smallest integer form, tried in binarypack's order. */
function packInteger(out: Writer, n: number): void {
  if (n >= -0x20 && n <= 0x7f) out.u8(n & 0xff);
  else if (n >= 0 && n <= 0xff) out.number(0xcc, 'u8', n);
  else if (n >= -0x80 && n <= 0x7f) out.number(0xd0, 'i8', n);
  else if (n >= 0 && n <= 0xffff) out.number(0xcd, 'u16', n);
  else if (n >= -0x8000 && n <= 0x7fff) out.number(0xd1, 'i16', n);
  else if (n >= 0 && n <= 0xffffffff) out.number(0xce, 'u32', n);
  else out.number(0xd2, 'i32', n);
}

function pack(out: Writer, value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string': {
      const bytes = textEncoder.encode(value);
      out.header(0xb0, 0xd8, 0xd9, bytes.length, 'string');
      out.append(bytes);
      return;
    }
    case 'number':
      // Integers beyond 32 bits go as float64: binarypack on Node cannot read its own int64
      // (its readInt64 calls itself forever), and every integer up to 2^53 is exact as a double.
      if (Number.isInteger(value) && value >= -0x80000000 && value <= 0xffffffff && !Object.is(value, -0)) packInteger(out, value);
      else out.number(0xcb, 'f64', value);
      return;
    case 'boolean':
      out.u8(value ? 0xc3 : 0xc2);
      return;
    case 'undefined':
      // As binarypack does: undefined is written as nil and arrives as null.
      out.u8(0xc0);
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`BinaryPack cannot encode a ${typeof value}`);
  }
  if (value === null) {
    out.u8(0xc0);
    return;
  }
  if (depth > MAX_DEPTH) throw new RangeError(`BinaryPack cannot encode a message nested more than ${MAX_DEPTH} levels deep (is there a cycle?)`);
  if (Array.isArray(value)) {
    out.header(0x90, 0xdc, 0xdd, value.length, 'array');
    for (const item of value) pack(out, item, depth + 1);
  } else if (ArrayBuffer.isView(value)) {
    out.header(0xa0, 0xda, 0xdb, value.byteLength, 'byte array');
    out.append(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  } else if (tag(value) === '[object ArrayBuffer]') {
    const bytes = new Uint8Array(value as ArrayBuffer);
    out.header(0xa0, 0xda, 0xdb, bytes.length, 'byte array');
    out.append(bytes);
  } else if (tag(value) === '[object Date]') {
    // binarypack sends a Date as its toString() text, and it arrives as that string.
    pack(out, String(value), depth);
  } else if (isPlainObject(value)) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    out.header(0x80, 0xde, 0xdf, keys.length, 'object');
    for (const key of keys) {
      pack(out, key, depth + 1);
      pack(out, record[key], depth + 1);
    }
  } else {
    const name = (value as { constructor?: { name?: string } }).constructor?.name || tag(value).slice(8, -1);
    throw new TypeError(`BinaryPack cannot encode a ${name}: send plain objects, arrays, strings, numbers, booleans, null, Dates and bytes`);
  }
}

let shared: Writer | null = new Writer();

/** Encode one value as BinaryPack bytes. */
export function packValue(value: unknown): Uint8Array {
  // The shared writer saves an allocation per message; a re-entrant call gets its own.
  const out = shared ?? new Writer();
  shared = null;
  out.pos = 0;
  try {
    pack(out, value, 0);
    return out.bytes.slice(0, out.pos);
  } finally {
    out.shrink();
    shared = out;
  }
}

class Reader {
  pos = 0;
  readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(size: number): number {
    if (this.pos + size > this.bytes.length) {
      throw new RangeError(`BinaryPack message truncated: ${size} more bytes needed at offset ${this.pos} of ${this.bytes.length}`);
    }
    const at = this.pos;
    this.pos += size;
    return at;
  }

  count(size: number, minBytes: number, what: string): number {
    if (size * minBytes > this.bytes.length - this.pos) {
      throw new RangeError(`BinaryPack message truncated: ${what} of ${size} entries in ${this.bytes.length - this.pos} bytes`);
    }
    return size;
  }

  raw(size: number): Uint8Array {
    const at = this.need(size);
    return this.bytes.subarray(at, at + size);
  }

  string(size: number): string {
    const at = this.need(size);
    return textDecoder.decode(this.bytes.subarray(at, at + size));
  }

  array(size: number, depth: number): unknown[] {
    const out = new Array<unknown>(this.count(size, 1, 'an array'));
    for (let i = 0; i < size; i++) out[i] = this.value(depth + 1);
    return out;
  }

  map(size: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.count(size, 2, 'a map');
    for (let i = 0; i < size; i++) {
      const key = this.value(depth + 1);
      if (typeof key !== 'string' && typeof key !== 'number') {
        throw new TypeError(`BinaryPack map keys must be strings or numbers, got ${key === null ? 'null' : typeof key} at offset ${this.pos}`);
      }
      const value = this.value(depth + 1);
      // An own property, as JSON.parse makes it, rather than a new prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new RangeError(`BinaryPack message nested more than ${MAX_DEPTH} levels deep`);
    const { view } = this;
    const type = this.bytes[this.need(1)]!;
    if (type < 0x80) return type;
    if (type >= 0xe0) return type - 0x100;
    if (type < 0x90) return this.map(type & 0x0f, depth);
    if (type < 0xa0) return this.array(type & 0x0f, depth);
    if (type < 0xb0) return this.raw(type & 0x0f);
    if (type < 0xc0) return this.string(type & 0x0f);
    switch (type) {
      case 0xc0:
        return null;
      case 0xc1:
        return undefined;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        return view.getFloat32(this.need(4));
      case 0xcb:
        return view.getFloat64(this.need(8));
      case 0xcc:
        return view.getUint8(this.need(1));
      case 0xcd:
        return view.getUint16(this.need(2));
      case 0xce:
        return view.getUint32(this.need(4));
      case 0xcf: {
        const at = this.need(8);
        return view.getUint32(at) * 0x100000000 + view.getUint32(at + 4);
      }
      case 0xd0:
        return view.getInt8(this.need(1));
      case 0xd1:
        return view.getInt16(this.need(2));
      case 0xd2:
        return view.getInt32(this.need(4));
      case 0xd3: {
        const at = this.need(8);
        return view.getInt32(at) * 0x100000000 + view.getUint32(at + 4);
      }
      // Reserved; binarypack reads each as undefined, with no payload.
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
        return undefined;
      case 0xd8:
        return this.string(view.getUint16(this.need(2)));
      case 0xd9:
        return this.string(view.getUint32(this.need(4)));
      case 0xda:
        return this.raw(view.getUint16(this.need(2)));
      case 0xdb:
        return this.raw(view.getUint32(this.need(4)));
      case 0xdc:
        return this.array(view.getUint16(this.need(2)), depth);
      case 0xdd:
        return this.array(view.getUint32(this.need(4)), depth);
      case 0xde:
        return this.map(view.getUint16(this.need(2)), depth);
      case 0xdf:
        return this.map(view.getUint32(this.need(4)), depth);
      default:
        throw new TypeError(`BinaryPack has no type 0x${type.toString(16)} (at offset ${this.pos - 1})`);
    }
  }
}

/** Decode one BinaryPack message; raw bytes in it are views of `bytes`. */
export function unpackValue(bytes: Uint8Array): unknown {
  const reader = new Reader(bytes);
  const value = reader.value(0);
  if (reader.pos !== bytes.length) {
    throw new RangeError(`BinaryPack message followed by ${bytes.length - reader.pos} unexpected bytes`);
  }
  return value;
}
