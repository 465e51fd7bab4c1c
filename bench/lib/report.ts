/** Small helpers for benchmark reports: medians and aligned tables. No timing logic lives here. */

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Prints rows as an aligned text table (first row is the header). */
export function printTable(rows: readonly (readonly string[])[]): void {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  rows.forEach((row, r) => {
    console.log(
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
        .join('  '),
    );
    if (r === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

/** Formats a rate in millions or thousands per second. */
export function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(1)} k/s`;
}

/** Formats a ratio as `1.23×`. */
export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(ratio >= 10 ? 1 : 2)}×`;
}

/** Prints a throughput table: each contender's median, min and max, and the first contender's ratio to it. */
export function printRateTable(results: ReadonlyMap<string, readonly number[]>, reference: string): void {
  const ours = median(results.get(reference) as number[]);
  printTable([
    ['contender', 'median ops/s', 'min', 'max', `${reference} ÷ it`],
    ...[...results].map(([name, samples]) => {
      const m = median(samples);
      return [
        name,
        formatRate(m),
        formatRate(Math.min(...samples)),
        formatRate(Math.max(...samples)),
        formatRatio(ours / m),
      ];
    }),
  ]);
}
