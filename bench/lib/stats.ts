/** Small helpers for the benches: timing, medians, number formatting. */

export interface Summary {
	median: number;
	min: number;
	max: number;
	runs: number[];
}

export function summarize(values: number[]): Summary {
	const sorted = [...values].sort((a, b) => a - b);
	const n = sorted.length;
	const median = n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	return { median, min: sorted[0] ?? NaN, max: sorted[n - 1] ?? NaN, runs: values };
}

export function nowMs(): number {
	return Number(process.hrtime.bigint()) / 1e6;
}

export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
export const fmtMB = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 1048576).toFixed(0)} MiB` : '—');
export const fmtS = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '—');
export const fmtX = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '—');

/** Left/right-aligned plain-text table. */
export function table(head: string[], rows: string[][], rightAligned: boolean[] = []): string {
	const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
	const line = (cells: string[]) =>
		cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
	return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
