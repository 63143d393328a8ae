/** Public API of the Licel raw-data codec (see ./README.md). */
export * from './types.js';
export { decodeLicel, LICEL_LIMITS } from './decode.js';
export { encodeLicel, licelFileName } from './encode.js';
export { physicalUnit, physicalValues, squaredDatasetStd, type LicelPhysicalUnit } from './physical.js';
export {
  inspectLicel,
  type LicelDatasetKind,
  type LicelDatasetSummary,
  type LicelFileSummary,
} from './inspect.js';
