/** Inline PNG charts for the digest (mail clients do not show SVG): drawn pixel by pixel with pngjs. */
import { PNG } from "pngjs";

const COLOURS: [number, number, number][] = [
  [122, 167, 217],
  [240, 180, 90],
  [230, 140, 110],
  [205, 90, 80],
  [160, 40, 40],
];

/** Horizontal bars, one per value, scaled to the largest; labels go in the email beside it (alt text too). */
export function barChartPng(values: number[], width = 480, barHeight = 22, gap = 8): Buffer {
  const height = values.length * (barHeight + gap) + gap;
  const png = new PNG({ width, height });
  png.data.fill(255);
  const max = Math.max(1, ...values);
  values.forEach((v, i) => {
    const w = v > 0 ? Math.max(2, Math.round((v / max) * (width - 10))) : 0;
    const [r, g, b] = COLOURS[i % COLOURS.length]!;
    const y0 = gap + i * (barHeight + gap);
    for (let y = y0; y < y0 + barHeight; y++)
      for (let x = 0; x < w; x++) {
        const o = (y * width + x) * 4;
        png.data[o] = r;
        png.data[o + 1] = g;
        png.data[o + 2] = b;
        png.data[o + 3] = 255;
      }
  });
  return PNG.sync.write(png);
}
