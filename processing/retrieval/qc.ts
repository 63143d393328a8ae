/**
 * Per-bin quality-control bitmask (contract: stored with every product; RETRIEVAL.md section 7).
 * PM is reported only where none of OVERLAP, CLOUD, TERRAIN, SATURATED is set.
 */
export const QC = {
  OVERLAP: 1,
  LOW_SNR: 2,
  CLOUD: 4,
  TERRAIN: 8,
  SATURATED: 16,
  NEGATIVE: 32,
  FORWARD: 64,
  HUMID: 128,
} as const;

export type QcFlag = (typeof QC)[keyof typeof QC];

/** Bits that forbid a PM value in a bin. */
export const QC_NO_PM = QC.OVERLAP | QC.CLOUD | QC.TERRAIN | QC.SATURATED;

/**
 * Bits that forbid any product value (backscatter, extinction, PM) in a bin: the same set. Inside the
 * overlap or with a saturated detector the signal itself is wrong; in a cloud or beyond a hard target
 * there is no aerosol to retrieve.
 */
export const QC_NO_PRODUCT = QC_NO_PM;

/** Ranges at least this long are flagged four bins at a time. */
const WORDWISE_MIN_BINS = 64;

/**
 * Sets `flag` (one bit or several, < 256) on bins [from, to) of `qc`. Long ranges (the far range of a
 * 16380-bin record) go four bins at a time through a 32-bit view of the aligned middle.
 */
export function flagRange(qc: Uint8Array, flag: number, from: number, to = qc.length): void {
  if ((flag & 0xff) === 0) return; // e.g. the humidity flag at RH <= 0.9
  const end = Math.min(to, qc.length);
  let i = Math.max(0, from);
  if (end - i >= WORDWISE_MIN_BINS) {
    for (const aligned = i + ((4 - ((qc.byteOffset + i) & 3)) & 3); i < aligned; i++) qc[i] |= flag;
    const words = (end - i) >> 2;
    const w = new Uint32Array(qc.buffer, qc.byteOffset + i, words);
    const f = (flag & 0xff) * 0x01010101;
    for (let k = 0; k < words; k++) w[k] |= f;
    i += 4 * words;
  }
  for (; i < end; i++) qc[i] |= flag;
}

/** Names of the bits set in a QC value, for messages and CSV output. */
export function qcNames(value: number): string[] {
  return (Object.keys(QC) as Array<keyof typeof QC>).filter((k) => (value & QC[k]) !== 0);
}
