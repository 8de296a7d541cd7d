// Test-side reader of the core's record bytes (src/core/record.rs): lets a
// test look inside what the outbox stored (its key, headers, body, attempts)
// the way the core would read it. Plain ES module: Node and test pages import it.

/** The operation a stored `data` holds, or null for another kind of value. */
export function readRecord(data) {
  data = data instanceof Uint8Array ? data : Uint8Array.from(data);
  if (data[0] !== 1) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 2;
  const u32 = () => {
    let v = 0;
    let shift = 0;
    let b;
    do {
      b = data[at++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  const bytes = () => {
    const n = u32();
    return data.slice(at, (at += n));
  };
  const str = () => new TextDecoder().decode(bytes());
  const f64 = () => {
    const v = view.getFloat64(at, true);
    at += 8;
    return v;
  };
  const record = { key: str(), method: str(), url: str(), headers: [] };
  for (let n = u32(); n > 0; n--) record.headers.push([str(), str()]);
  record.body = data[at++] ? bytes() : null;
  record.fingerprint = str();
  record.attempts = u32();
  for (const field of ['createdAt', 'seq', 'nextAttemptAt', 'notBefore', 'expiredAt']) record[field] = f64();
  return record;
}
