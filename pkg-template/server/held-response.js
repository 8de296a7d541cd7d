// A Response whose body this package already holds as bytes (the answer it
// just stored), handed back to toNodeListener without building a second body
// stream: in Node 20 each ReadableStream costs ~10 µs, a third of what the
// middleware may add. toNodeListener writes the bytes directly; anyone else
// who reads the body (a wrapper adding headers, `new Response(res.body, res)`)
// gets a real one, built on first use. Only used for requests that came
// through toNodeListener: Deno.serve and workerd read a Response's internal
// body, so there idempotent() returns a plain Response.
export class HeldResponse extends Response {
  #bytes;
  #real;

  constructor(bytes, init) {
    super(null, init);
    this.#bytes = bytes;
  }

  #materialize() {
    this.#real ??= new Response(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.headers });
    return this.#real;
  }

  /** The bytes, if nobody has read the body as a stream yet. */
  heldBytes() {
    return this.#real === undefined ? this.#bytes : undefined;
  }

  get body() { return this.#materialize().body; }
  get bodyUsed() { return this.#real?.bodyUsed ?? false; }
  arrayBuffer() { return this.#materialize().arrayBuffer(); }
  blob() { return this.#materialize().blob(); }
  bytes() { return this.#materialize().bytes(); }
  formData() { return this.#materialize().formData(); }
  json() { return this.#materialize().json(); }
  text() { return this.#materialize().text(); }
  clone() { return this.#materialize().clone(); }
}
