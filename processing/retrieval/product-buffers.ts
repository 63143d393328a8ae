/**
 * Reusable product arrays. A profile's products are 15 Float64 arrays and a Uint8 QC array of the
 * record's length (~2 MB at 16380 bins); allocating them costs more than most retrieval steps (the
 * runtime zeroes fresh memory, and arrays this large come straight from the OS, page by page: ~8 ns
 * per bin and profile on this machine, docs/performance.md). A caller that copies or serialises the
 * products before its next call (the ingest job turns them into Float32 store records, the CLI
 * prints them) passes one `ProductBuffers` to `retrieveFile` / `retrieveChannel`, and the products
 * are written into its arrays instead: **the returned arrays stay valid only until the next call
 * with the same buffers** (and the same slot). Without buffers every call allocates, as before.
 *
 * The arrays handed out are zeroed, exactly like fresh ones, so results do not depend on reuse.
 */

/** The Float64 product arrays of one profile, by ProfileProducts field name. */
export const FLOAT_PRODUCTS = [
  'rangeM',
  'heightM',
  'lat',
  'lon',
  'rcs',
  'betaAer',
  'alphaAer',
  'pm10',
  'pm25',
  'betaAerSigma',
  'alphaAerSigma',
  'pm10Sigma',
  'pm25Sigma',
  'alphaAerSensLidarRatio',
  'alphaAerSensReference',
] as const;
export type FloatProduct = (typeof FLOAT_PRODUCTS)[number];

export type ProductArrays = Record<FloatProduct, Float64Array> & { qc: Uint8Array };

function allocate(bins: number): ProductArrays {
  const arrays = { qc: new Uint8Array(bins) } as ProductArrays;
  for (const name of FLOAT_PRODUCTS) arrays[name] = new Float64Array(bins);
  return arrays;
}

export class ProductBuffers {
  private readonly slots: ProductArrays[] = [];

  /**
   * The arrays of slot `slot` (one per profile a call returns: retrieveFile uses 0, 1, ... for its
   * channels), `bins` long and zeroed. Reallocated when the length changes.
   */
  arrays(slot: number, bins: number): ProductArrays {
    let a = this.slots[slot];
    if (a === undefined || a.qc.length !== bins) {
      a = allocate(bins);
      this.slots[slot] = a;
      return a;
    }
    a.qc.fill(0);
    for (const name of FLOAT_PRODUCTS) a[name].fill(0);
    return a;
  }
}

/** Fresh arrays (no buffers) or the buffers' slot. */
export function productArrays(bins: number, buffers: ProductBuffers | null | undefined, slot: number): ProductArrays {
  return buffers ? buffers.arrays(slot, bins) : allocate(bins);
}
