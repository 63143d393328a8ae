/**
 * Time averaging of profiles with the same geometry, done on the raw integers: summing the
 * accumulated counts (and shots) of consecutive files keeps photon-counting statistics Poisson and
 * the Licel conversion (raw / shots) exact, so the averaged file goes through the chain unchanged.
 */
import { LidarError } from '../errors.js';
import type { LicelFile } from '../licel/types.js';

const ANGLE_TOLERANCE_DEG = 0.05;

/** True when two files point the same way and have the same dataset layout. */
export function sameGeometry(a: LicelFile, b: LicelFile): boolean {
  const az = (f: LicelFile) => (Number.isNaN(f.header.azimuthDeg) ? 0 : f.header.azimuthDeg);
  const dAz = Math.abs(((az(a) - az(b) + 540) % 360) - 180);
  return (
    Math.abs(a.header.zenithRaw - b.header.zenithRaw) <= ANGLE_TOLERANCE_DEG &&
    dAz <= ANGLE_TOLERANCE_DEG &&
    a.datasets.length === b.datasets.length &&
    a.datasets.every((d, k) => {
      const e = b.datasets[k];
      return d.dataType === e.dataType && d.bins === e.bins && d.binWidthM === e.binWidthM && d.wavelengthNm === e.wavelengthNm && d.adcBits === e.adcBits && d.inputRangeV === e.inputRangeV;
    })
  );
}

/** Sums files of the same geometry into one (start of the first, stop of the last). */
export function sumLicelFiles(files: LicelFile[], names: string[] = []): LicelFile {
  if (files.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'no files to average', { field: 'files' });
  const first = files[0];
  files.forEach((f, k) => {
    if (!sameGeometry(first, f)) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `cannot average: pointing or dataset layout differs from the first file`, { file: names[k] ?? `file ${k}`, field: 'geometry' });
    }
  });
  const datasets = first.datasets.map((d, k) => {
    const sum = new Float64Array(d.bins);
    let shots = 0;
    for (const f of files) {
      const raw = f.datasets[k].raw;
      for (let i = 0; i < sum.length; i++) sum[i] += raw[i];
      shots += f.datasets[k].shots;
    }
    for (let i = 0; i < sum.length; i++) {
      if (sum[i] > 0xffffffff) throw new LidarError('LIDAR_ERR_BAD_VALUE', `averaged raw value ${sum[i]} exceeds 32 bits in dataset ${k} bin ${i}`, { field: 'raw' });
    }
    return { ...d, shots, raw: Uint32Array.from(sum) };
  });
  const last = files[files.length - 1];
  return {
    header: {
      ...first.header,
      stopLocal: last.header.stopLocal,
      laser1Shots: files.reduce((s, f) => s + f.header.laser1Shots, 0),
      laser2Shots: files.reduce((s, f) => s + f.header.laser2Shots, 0),
      laser3Shots: files.reduce((s, f) => s + f.header.laser3Shots, 0),
    },
    datasets,
  };
}

/** Splits a time-ordered list into runs of consecutive files with the same geometry, at most `maxFiles` each. */
export function groupSameGeometry(files: LicelFile[], maxFiles = Infinity): number[][] {
  const groups: number[][] = [];
  files.forEach((f, k) => {
    const g = groups[groups.length - 1];
    if (g && g.length < maxFiles && sameGeometry(files[g[0]], f)) g.push(k);
    else groups.push([k]);
  });
  return groups;
}
