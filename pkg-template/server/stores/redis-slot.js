// The Redis Cluster hash slot of a key (CRC16-XMODEM of the key, or of its
// {hash tag}, mod 16384), for routing a keyless command (WAIT) to the node
// that holds the key when the client library does not do it.
const encoder = new TextEncoder();
const TABLE = new Uint16Array(256).map((_, i) => {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  return crc & 0xffff;
});

export function slotOf(key) {
  let bytes = encoder.encode(key);
  const open = bytes.indexOf(123); // {
  if (open >= 0) {
    const close = bytes.indexOf(125, open + 1); // }
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b) & 0xff];
  return crc % 16384;
}
