// A durafetch store adapter on the file system: one file per record, written
// atomically (temp file + rename) so a crash never leaves half a record.
// v8.serialize keeps the record's Uint8Array body as is.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';

export class FileStore {
  constructor(dir) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  #path(key) {
    return join(this.dir, `${encodeURIComponent(key)}.rec`);
  }

  async get(key) {
    try { return deserialize(readFileSync(this.#path(key))); } catch { return undefined; }
  }

  async put(record) {
    const tmp = `${this.#path(record.key)}.tmp`;
    writeFileSync(tmp, serialize(record));
    renameSync(tmp, this.#path(record.key));
  }

  async delete(key) {
    rmSync(this.#path(key), { force: true });
  }

  async list() {
    return readdirSync(this.dir).filter((f) => f.endsWith('.rec'))
      .map((f) => deserialize(readFileSync(join(this.dir, f))));
  }
}
