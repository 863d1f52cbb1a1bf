/**
 * Plain-text tables for the benchmark's readable output: a title, a header row and right-aligned
 * numbers, so the figures can be pasted into docs as they are.
 */
export type Cell = string | number | undefined;

export interface Table {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  /** Lines printed under the table (what the figures mean, caveats). */
  readonly notes?: readonly string[];
}

const text = (cell: Cell): string => (cell === undefined ? '-' : String(cell));

/** Renders `table` with columns padded to their widest cell; numbers align right. */
export function renderTable(table: Table): string {
  const all = [table.header, ...table.rows];
  const widths = table.header.map((_, column) => Math.max(...all.map((row) => text(row[column]).length)));
  const line = (row: readonly Cell[]) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return typeof cell === 'number' ? text(cell).padStart(width) : text(cell).padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    table.title,
    line(table.header),
    rule,
    ...table.rows.map(line),
    ...(table.notes ?? []).map((n) => `  ${n}`),
    '',
  ].join('\n');
}
