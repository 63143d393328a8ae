/**
 * CRC-32 as used by IEEE 802.3, zlib, PNG and the serial frames (ARCHITECTURE.md "Transports"):
 * polynomial 0x04C11DB7 in reflected form 0xEDB88320, initial value 0xFFFFFFFF, input and output
 * reflected, final XOR 0xFFFFFFFF ("CRC-32/ISO-HDLC" in Greg Cook's catalogue; check value
 * crc32("123456789") = 0xCBF43926). Table-driven, one byte at a time (Sarwate 1988).
 * Pure TypeScript: runs in Node and in the browser.
 */

/** Lookup table: the CRC of each byte value (reflected polynomial 0xEDB88320). */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * Continues a CRC over `bytes[start, end)`: `crc32Update(crc32(a), b)` equals `crc32(a ++ b)`.
 * `crc` is a finished CRC (as returned by `crc32`), 0 for the empty prefix.
 */
export function crc32Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = ~crc >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The CRC-32 (IEEE) of `bytes[start, end)` as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32Update(0, bytes, start, end);
}
