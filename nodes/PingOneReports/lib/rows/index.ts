import { Readable } from 'node:stream';
import { CsvRowParser } from './csv';
import { JsonRowParser } from './json';
import { RowParseError } from './errors';
import type { Row, RowSink } from './types';

export type { Row } from './types';
export { RowParseError } from './errors';
export { makeHeaderNames } from './csv';

export interface ReadRowsOptions {
	/** keep at most this many rows; 0 or undefined keeps all. The source is still read to its end. */
	maxRows?: number;
}

export interface ReadRowsResult {
	rows: Row[];
	/** every row in the source, kept or not (the whole source is always parsed) */
	totalRows?: number;
	/** true when rows were left out because of maxRows */
	truncated: boolean;
}

export type RowFormat = 'csv' | 'json';

class CollectingSink implements RowSink {
	readonly rows: Row[] = [];
	count = 0;
	constructor(private readonly max: number) {}
	add(row: Row | null): void {
		if (row !== null && this.count < this.max) this.rows.push(row);
		this.count++;
	}
	wantsMore(): boolean {
		return this.count < this.max;
	}
}

function toAsyncIterable(
	source: AsyncIterable<Buffer> | NodeJS.ReadableStream,
): AsyncIterable<Buffer | string> {
	if (typeof (source as AsyncIterable<Buffer>)[Symbol.asyncIterator] === 'function') {
		return source as AsyncIterable<Buffer>;
	}
	return new Readable().wrap(source as NodeJS.ReadableStream);
}

/**
 * Reads every row of a CSV or JSON source (see csv.ts and json.ts for the accepted shapes).
 * Rejects with the source's own error if the source fails (even after a parse error: the source
 * is always read to its end, since it may check its integrity only there, and a corrupt source
 * explains malformed rows better), else with RowParseError if the data is malformed (also past
 * maxRows: the whole source is always read and checked).
 */
export async function readRows(
	source: AsyncIterable<Buffer> | NodeJS.ReadableStream,
	format: RowFormat,
	options: ReadRowsOptions = {},
): Promise<ReadRowsResult> {
	const max = options.maxRows && options.maxRows > 0 ? Math.floor(options.maxRows) : Infinity;
	const sink = new CollectingSink(max);
	let parser: CsvRowParser | JsonRowParser;
	if (format === 'csv') parser = new CsvRowParser(sink);
	else if (format === 'json') parser = new JsonRowParser(sink, max);
	else throw new RowParseError(`Unknown row format "${String(format)}"; expected csv or json`);

	let parseError: unknown;
	for await (const chunk of toAsyncIterable(source)) {
		if (parseError !== undefined) continue; // drain: the source's own error (e.g. a bad checksum) wins
		try {
			parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
		} catch (error) {
			parseError = error;
		}
	}
	if (parseError !== undefined) throw parseError;
	parser.end();
	return { rows: sink.rows, totalRows: sink.count, truncated: sink.count > sink.rows.length };
}
