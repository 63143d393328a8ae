/**
 * Curtain responses: JSON (times, heights, values row-major per column, NaN as null) and the compact
 * binary form `application/vnd.lidar-pm.curtain+f32` (docs/api.md "Curtain binary format"):
 *
 *   offset  size          content (all little-endian)
 *   0       4             magic "LPMC"
 *   4       2             version (u16) = 2
 *   6       2             header size in bytes (u16) = 32
 *   8       4             width W (u32): time columns
 *   12      4             height H (u32): height rows
 *   16      4             profiles used (u32)
 *   20      4             height_min_m (f32)
 *   24      4             height_max_m (f32)
 *   28      4             reserved (0)
 *   32      8 W           column centre times (f64, ms since 1970 UTC)
 *   32+8W   4 H           row centre heights (f32, m a.s.l.)
 *   ..      4 W H         values (f32), column by column: values[col * H + row]; NaN = no data
 *   ..      4 W           PBL height per column (f32, m a.s.l.; NaN = none)
 *   ..      4 W           cloud base per column (f32, m a.s.l.; NaN = none)
 *   ..      4 W           PBL quality per column (f32, 0..1; NaN = none)   (version 2; v1 ended before it)
 *
 * The f64 block starts at byte 32 and every later block at a multiple of 4, so a client can view
 * each block with a typed array over the same buffer.
 */
import type { CurtainResult } from '../store/result-store.js';

export const CURTAIN_MAGIC = 'LPMC';
export const CURTAIN_VERSION = 2;
export const CURTAIN_HEADER_BYTES = 32;
export const CURTAIN_CONTENT_TYPE = 'application/vnd.lidar-pm.curtain+f32';

export function curtainBinary(c: CurtainResult): Buffer {
  const w = c.timesMs.length;
  const h = c.heightsM.length;
  const size = CURTAIN_HEADER_BYTES + 8 * w + 4 * h + 4 * w * h + 12 * w;
  const buf = Buffer.alloc(size);
  buf.write(CURTAIN_MAGIC, 0, 'ascii');
  buf.writeUInt16LE(CURTAIN_VERSION, 4);
  buf.writeUInt16LE(CURTAIN_HEADER_BYTES, 6);
  buf.writeUInt32LE(w, 8);
  buf.writeUInt32LE(h, 12);
  buf.writeUInt32LE(c.profilesUsed, 16);
  buf.writeFloatLE(c.heightMinM, 20);
  buf.writeFloatLE(c.heightMaxM, 24);
  let off = CURTAIN_HEADER_BYTES;
  for (let i = 0; i < w; i++, off += 8) buf.writeDoubleLE(c.timesMs[i], off);
  for (let i = 0; i < h; i++, off += 4) buf.writeFloatLE(c.heightsM[i], off);
  const put = (a: Float32Array) => {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, off);
    off += a.byteLength;
  };
  if (c.values.length !== w * h) throw new Error(`curtain has ${c.values.length} values for ${w} x ${h}`);
  put(c.values);
  put(c.pblHeightM);
  put(c.cloudBaseM);
  put(c.pblQuality);
  return buf;
}

function nul(x: number, digits = 7): number | null {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)) : null;
}

/** The curtain as JSON: values[col][row]. */
export function curtainJson(c: CurtainResult, unit: string): object {
  const w = c.timesMs.length;
  const h = c.heightsM.length;
  const values: Array<Array<number | null>> = [];
  for (let col = 0; col < w; col++) {
    const column = new Array<number | null>(h);
    for (let row = 0; row < h; row++) column[row] = nul(c.values[col * h + row]);
    values.push(column);
  }
  return {
    station: c.station,
    channel: c.channel,
    product: c.product,
    unit,
    from: new Date(c.fromMs).toISOString(),
    to: new Date(c.toMs).toISOString(),
    width: w,
    height: h,
    profiles_used: c.profilesUsed,
    height_min_m: nul(c.heightMinM),
    height_max_m: nul(c.heightMaxM),
    times: Array.from(c.timesMs, (t) => new Date(Math.round(t)).toISOString()),
    heights_m: Array.from(c.heightsM, (x) => nul(x)),
    values,
    pbl_height_m: Array.from(c.pblHeightM, (x) => nul(x)),
    cloud_base_m: Array.from(c.cloudBaseM, (x) => nul(x)),
    pbl_quality: Array.from(c.pblQuality, (x) => nul(x, 4)),
  };
}
