// DOM helper for the views (kept out of curtain.ts, which the Node unit tests import).
/** Paints a 256-entry RGB lookup table (3 bytes per entry) into a 256 x 1 canvas: the colour bar. */
export function paintColourBar(canvas: HTMLCanvasElement, lut: Uint8ClampedArray): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(256, 1);
  for (let i = 0; i < 256; i++) {
    img.data.set(lut.subarray(i * 3, i * 3 + 3), i * 4);
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
