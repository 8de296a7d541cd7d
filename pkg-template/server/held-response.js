// A Response whose body this package already holds as bytes (the answer it
// just stored), handed back to toNodeListener without building a second body
// stream: in Node 20 each ReadableStream costs ~10 µs, a third of what the
// middleware may add. toNodeListener writes the bytes directly; anyone else
// who reads the body (a wrapper adding headers, `new Response(res.body, res)`)
// gets a real one, built on first use. Only used for requests that came
// through toNodeListener: Deno.serve and workerd read a Response's internal
// body, so there idempotent() returns a plain Response.
// Its headers are the handler's Response's own Headers object, not a copy.
export class HeldResponse extends Response {
  #bytes;
  #headers;
  #real;

  constructor(bytes, { status, statusText, headers }) {
    super(null, { status, statusText });
    this.#bytes = bytes;
    this.#headers = headers;
  }

  #materialize() {
    this.#real ??= new Response(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.#headers });
    return this.#real;
  }

  get headers() { return this.#headers; }

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
