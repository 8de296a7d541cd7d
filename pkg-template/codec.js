// Bytes to and from the core (src/core/codec.rs writes and reads the same):
// integers as LEB128, times as little-endian f64, text as a length and UTF-8.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes one input for the core into a buffer it reuses. */
export class Encoder {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  length = 0;

  /** Starts an input: its op and the two clocks. */
  start(op) {
    this.length = 0;
    return this.u8(op).f64(Date.now()).f64(performance.now());
  }

  #room(n) {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(v) {
    this.#room(1);
    this.buf[this.length++] = v;
    return this;
  }

  bool(v) {
    return this.u8(v ? 1 : 0);
  }

  u32(v) {
    this.#room(5);
    v >>>= 0;
    while (v >= 0x80) {
      this.buf[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.length++] = v;
    return this;
  }

  f64(v) {
    this.#room(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
    return this;
  }

  /** `count` bytes as they are (random bytes: no length). */
  raw(bytes) {
    this.#room(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  bytes(bytes) {
    return this.u32(bytes.length).raw(bytes);
  }

  str(s) {
    // At most 3 bytes per UTF-16 unit; written in place, then its length before it.
    this.#room(5 + 3 * s.length);
    const at = this.length++;
    const { written } = encoder.encodeInto(s, this.buf.subarray(this.length));
    if (written < 0x80) {
      this.buf[at] = written;
      this.length += written;
      return this;
    }
    // A longer length needs more bytes: move the text after it.
    const text = this.buf.slice(this.length, this.length + written);
    this.length = at;
    return this.bytes(text);
  }

  optStr(s) {
    return s == null ? this.u8(0) : this.u8(1).str(s);
  }

  /** An argument: absent (undefined), given (`ok`), or of the wrong type. */
  arg(value, ok, write) {
    if (value === undefined) return this.u8(0);
    if (!ok) return this.u8(2);
    this.u8(1);
    write(value);
    return this;
  }
}

/** Reads the core's answer (a copy: performing it may call the core again). */
export class Decoder {
  constructor(bytes) {
    this.buf = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = 0;
  }

  more() {
    return this.at < this.buf.length;
  }

  u8() {
    return this.buf[this.at++];
  }

  bool() {
    return this.u8() === 1;
  }

  u32() {
    let v = 0;
    let shift = 0;
    let b;
    do {
      b = this.buf[this.at++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  }

  f64() {
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  bytes() {
    const n = this.u32();
    return this.buf.slice(this.at, (this.at += n));
  }

  str() {
    const n = this.u32();
    return decoder.decode(this.buf.subarray(this.at, (this.at += n)));
  }

  optStr() {
    return this.u8() ? this.str() : undefined;
  }

  /** 0 for none, else the value plus one. */
  optU32() {
    const v = this.u32();
    return v === 0 ? undefined : v - 1;
  }
}
