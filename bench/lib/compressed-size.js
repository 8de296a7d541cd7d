// Raw, gzip -9 and brotli (max quality) sizes of bytes, as node:zlib makes them.
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

export function sizesOf(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

/** Each file compressed on its own (as a server sends them), then summed. */
export function sizesOfFiles(paths) {
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const path of paths) {
    const one = sizesOf(readFileSync(path));
    for (const k of Object.keys(total)) total[k] += one[k];
  }
  return total;
}
