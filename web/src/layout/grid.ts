export interface GridFit {
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
}

/**
 * The largest tiles of the given aspect that `count` of fit in a `width` x `height` area with
 * `gap` between them: tries every column count and keeps the one with the widest tile.
 */
export function fitGrid(count: number, width: number, height: number, gap: number, aspect = 16 / 9): GridFit {
  const n = Math.max(1, count);
  let best: GridFit = { columns: 1, rows: n, tileWidth: 0, tileHeight: 0 };
  for (let columns = 1; columns <= n; columns++) {
    const rows = Math.ceil(n / columns);
    const byWidth = (width - gap * (columns - 1)) / columns;
    const byHeight = ((height - gap * (rows - 1)) / rows) * aspect;
    const tileWidth = Math.floor(Math.max(0, Math.min(byWidth, byHeight)));
    if (tileWidth > best.tileWidth) best = { columns, rows, tileWidth, tileHeight: Math.floor(tileWidth / aspect) };
  }
  return best;
}

/** How many tiles one page of the grid shows: fewer on a small screen, where tiles would be stamps. */
export function pageSize(width: number, height: number): number {
  const area = width * height;
  if (area < 500_000) return 6;
  if (area < 1_000_000) return 12;
  return 25;
}

export function paginate<T>(items: readonly T[], size: number, page: number): { items: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(Math.max(0, page), pages - 1);
  return { items: items.slice(current * size, (current + 1) * size), page: current, pages };
}
