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
 * Reused arrays keep what the previous call wrote: `reused` says so, and the retrieval writes every
 * element of every product, zeroing first the few it accumulates into — except the NaN that the
 * previous call left beyond its extent, where nothing else writes (`nanFrom`, `rcsTail`). So the caller must
 * not modify the arrays (read, copy, serialise). tests/product-buffers.test.ts checks reused against
 * fresh, bit for bit, over a sequence of different retrievals.
 */

import type { NanTail } from './extent.js';

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

export type ProductArrays = Record<FloatProduct, Float64Array> & {
  qc: Uint8Array;
  /** False: freshly allocated (zeros); true: reused, holding the previous call's values. */
  reused: boolean;
  /**
   * The masked products (`MASKED_PRODUCTS`) are NaN from this bin on: what the previous call left (the
   * record length for fresh arrays or when unknown, e.g. after a call that failed half-way). The
   * retrieval writes them only below the signal's extent, so it fills NaN only up to where they
   * already are.
   */
  nanFrom: number;
  /** The same for `rcs`, which the retrieval writes up to the end of the prepared signal (extent.ts nanBeyond). */
  rcsTail: NanTail;
};


/** The products that read NaN beyond the last retrieved bin (the masks); see `nanFrom`. */
export const MASKED_PRODUCTS = ['betaAer', 'alphaAer', 'betaAerSigma', 'alphaAerSigma', 'alphaAerSensLidarRatio', 'alphaAerSensReference', 'pm10', 'pm25', 'pm10Sigma', 'pm25Sigma'] as const satisfies readonly FloatProduct[];

function allocate(bins: number): ProductArrays {
  const arrays = { qc: new Uint8Array(bins), reused: false, nanFrom: bins, rcsTail: { nanFrom: bins } } as ProductArrays;
  for (const name of FLOAT_PRODUCTS) arrays[name] = new Float64Array(bins);
  return arrays;
}

export class ProductBuffers {
  private readonly slots: ProductArrays[] = [];

  /**
   * The arrays of slot `slot` (one per profile a call returns: retrieveFile uses 0, 1, ... for its
   * channels), `bins` long: the previous call's (`reused`), or new ones when the length changes.
   */
  arrays(slot: number, bins: number): ProductArrays {
    let a = this.slots[slot];
    if (a === undefined || a.qc.length !== bins) {
      a = allocate(bins);
      this.slots[slot] = a;
      return a;
    }
    a.reused = true;
    return a;
  }
}

/** Fresh arrays (no buffers) or the buffers' slot. */
export function productArrays(bins: number, buffers: ProductBuffers | null | undefined, slot: number): ProductArrays {
  return buffers ? buffers.arrays(slot, bins) : allocate(bins);
}
