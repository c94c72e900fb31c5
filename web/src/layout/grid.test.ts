import { describe, expect, it } from 'vitest';
import { fitGrid, pageSize, paginate } from './grid.ts';

describe('fitGrid', () => {
  it('gives one tile the whole width of a wide stage', () => {
    const fit = fitGrid(1, 1600, 900, 8);
    expect(fit).toMatchObject({ columns: 1, rows: 1, tileWidth: 1600, tileHeight: 900 });
  });

  it('puts two people side by side on a landscape stage and stacked on a portrait one', () => {
    expect(fitGrid(2, 1200, 600, 8).columns).toBe(2);
    expect(fitGrid(2, 390, 700, 8).columns).toBe(1);
  });

  it('makes a 3x3 grid of nine on a 16:9 stage', () => {
    expect(fitGrid(9, 1280, 720, 8)).toMatchObject({ columns: 3, rows: 3 });
  });

  it('never makes tiles overflow the stage', () => {
    for (let n = 1; n <= 30; n++) {
      for (const [w, h] of [
        [800, 500],
        [390, 640],
        [844, 300],
      ] as const) {
        const fit = fitGrid(n, w, h, 8);
        expect(fit.columns * fit.tileWidth + (fit.columns - 1) * 8).toBeLessThanOrEqual(w);
        expect(fit.rows * fit.tileHeight + (fit.rows - 1) * 8).toBeLessThanOrEqual(h);
        expect(fit.columns * fit.rows).toBeGreaterThanOrEqual(n);
      }
    }
  });
});

describe('pagination', () => {
  it('shows fewer tiles a page on a phone than on a desktop', () => {
    expect(pageSize(390, 600)).toBeLessThan(pageSize(1600, 900));
  });

  it('clamps the page and counts pages', () => {
    const items = Array.from({ length: 30 }, (_, i) => i);
    expect(paginate(items, 25, 0)).toMatchObject({ page: 0, pages: 2 });
    expect(paginate(items, 25, 5)).toEqual({ items: [25, 26, 27, 28, 29], page: 1, pages: 2 });
    expect(paginate([], 25, 0)).toEqual({ items: [], page: 0, pages: 1 });
  });
});
