// The wasm core (src/shell): it imports nothing and exports six functions
// over its memory. An input is written at df_in, handed to df_create or
// df_input, and the answer read at df_out, copied before anything else runs
// (performing it may call the core again).
import { Decoder } from './codec.js';
import { DurafetchError } from './errors.js';
import { EXPECTED } from './contract.js';

let wasm;

/** Instantiates the module once (a compiled WebAssembly.Module, or its bytes). */
export function initSync(module) {
  if (!wasm) {
    if (!(module instanceof WebAssembly.Module)) module = new WebAssembly.Module(module);
    wasm = new WebAssembly.Instance(module, {}).exports;
  }
}

/** Fetches and instantiates the module once (browsers, workers, Deno). */
export async function init(url) {
  if (wasm) return;
  const response = fetch(url);
  let instance;
  try {
    ({ instance } = await WebAssembly.instantiateStreaming(response, {}));
  } catch (error) {
    // Served without `application/wasm`: compile the bytes instead.
    const r = await response;
    if (!r.ok) throw new Error(`durafetch: could not load ${url}: ${r.status}`, { cause: error });
    ({ instance } = await WebAssembly.instantiate(await r.clone().arrayBuffer(), {}));
  }
  wasm ??= instance.exports;
}

/** Bytes of the module's linear memory (it only grows): for bench/memory.js. */
export const memoryBytes = () => (wasm ? wasm.memory.buffer.byteLength : 0);

function call(fn, enc, ...args) {
  const at = wasm.df_in(enc.length);
  new Uint8Array(wasm.memory.buffer, at, enc.length).set(enc.buf.subarray(0, enc.length));
  const result = fn(...args, enc.length);
  return [result, new Uint8Array(wasm.memory.buffer, wasm.df_out(), wasm.df_out_len()).slice()];
}

/** 'invalid-option' for the argument the core refused; `args` holds its value. */
function refused(d, args) {
  const option = d.str();
  const value = option === 'options' ? args : option.split('.').reduce((v, part) => (v == null ? v : v[part]), args);
  return new DurafetchError('invalid-option', { option, expected: EXPECTED[d.u8()], value });
}

// A client's engine goes with the last reference to its Core.
const freed = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((ptr) => wasm.df_free(ptr)) : null;

/** One client's engine in the module. */
export class Core {
  /** Validates the encoded options (a mistake throws, naming it); `store`
   *  and `keyHeader` say what the options chose. */
  constructor(enc, options) {
    const [ptr, answer] = call(wasm.df_create, enc);
    const d = new Decoder(answer);
    if (d.u8() !== 0) throw refused(d, options);
    this.ptr = ptr;
    this.store = d.u8();
    this.keyHeader = d.str();
    freed?.register(this, ptr);
  }

  /** One event; returns the answer positioned at its actions. A refused
   *  argument throws 'invalid-option' (its value looked up in `args`). */
  input(enc, args) {
    const d = new Decoder(call(wasm.df_input, enc, this.ptr)[1]);
    const status = d.u8();
    if (status === 1) throw refused(d, args);
    if (status !== 0) throw new Error('durafetch: the core could not read its input (a bug: please report it)');
    return d;
  }
}
