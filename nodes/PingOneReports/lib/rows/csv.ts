import { RowParseError } from './errors';
import { MAX_ROW_CHARS, type Row, type RowSink } from './types';
import { Utf8Text } from './text';

/*
 * A streaming RFC 4180 CSV reader, hand-written because no measured library was both fast enough
 * and strict enough (see bench/parsers/README.md). Rules:
 *
 * - The first record is the header. Values stay strings. Separator ",", quote '"', '""' escapes a
 *   quote inside a quoted field; quoted fields may hold commas, CR and LF.
 * - Records end with LF or CRLF (mixed is fine); the last record may lack it. A UTF-8 BOM is
 *   stripped. Blank lines (empty or a lone CR) are skipped; a line holding only `""` is a record
 *   whose first field is empty.
 * - Header names: an empty name becomes `column_<n>` (n = 1-based position); a repeated name gets
 *   `_2`, `_3`, … (the first keeps its name). Names are otherwise kept as they are (no trimming).
 * - A record with fewer fields than the header gets "" for the missing ones; a record with more
 *   fields is an error naming its line.
 * - A quote inside an unquoted field is kept as a literal character (lenient, like most readers);
 *   anything but a separator or line end after a closing quote is an error naming the line.
 * - An unclosed quote at the end of the input is an error naming the line where the quote opened.
 * - Line numbers are physical lines (newlines inside quoted fields count).
 *
 * Chunks may split anywhere: the decoder keeps partial UTF-8 sequences, and the parser keeps only
 * the unfinished field (never re-reading a long quoted field: its finished part is kept decoded).
 */

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const NONE = 0x7fffffff;

const FIELD_START = 0;
const QUOTED = 1;
const AFTER_QUOTE = 2;

export function makeHeaderNames(fields: string[]): string[] {
	const used = new Set<string>();
	const names: string[] = [];
	// first pass reserves the names that are fine as they are, so `a,a,a_2` gives a, a_3, a_2
	const firstSeen = new Set<string>();
	const plain: boolean[] = fields.map((f) => {
		if (f === '' || firstSeen.has(f)) return false;
		firstSeen.add(f);
		return true;
	});
	fields.forEach((f, i) => {
		if (plain[i]) used.add(f);
	});
	fields.forEach((f, i) => {
		if (plain[i]) {
			names.push(f);
			return;
		}
		const base = f === '' ? `column_${i + 1}` : f;
		let name = base;
		let k = 2;
		while (used.has(name)) name = `${base}_${k++}`;
		used.add(name);
		names.push(name);
	});
	return names;
}

export class CsvRowParser {
	private readonly text = new Utf8Text();
	private readonly sink: RowSink;
	private carry = '';
	private state = FIELD_START;
	private acc = '';
	private headers: string[] | null = null;
	private headerFields: string[] = [];
	private nCols = 0;
	private unsafeKeys = false;
	private row: Row | null = null;
	private fieldIdx = 0;
	private curLine = 1;
	private rowLine = 1;
	private quoteLine = 1;

	constructor(sink: RowSink) {
		this.sink = sink;
	}

	write(chunk: Buffer): void {
		let text = this.text.write(chunk);
		if (text.length === 0) return;
		if (this.carry !== '') {
			text = this.carry + text;
			this.carry = '';
		}
		this.run(text, false);
	}

	end(): void {
		const text = this.carry + this.text.end();
		this.carry = '';
		this.run(text, true);
	}

	private setField(value: string): void {
		if (this.headers === null) {
			this.headerFields.push(value);
			this.fieldIdx++;
			return;
		}
		const i = this.fieldIdx;
		if (i >= this.nCols) this.tooManyFields();
		const row = this.row;
		if (row !== null) {
			if (this.unsafeKeys) defineValue(row, this.headers[i], value);
			else row[this.headers[i]] = value;
		}
		this.fieldIdx = i + 1;
	}

	private tooManyFields(): never {
		throw new RowParseError(
			`CSV: the record on line ${this.rowLine} has more fields than the header (${this.nCols})`,
			this.rowLine,
		);
	}

	private endRow(): void {
		if (this.headers === null) {
			this.headers = makeHeaderNames(this.headerFields);
			this.nCols = this.headers.length;
			this.unsafeKeys = this.headers.includes('__proto__');
			this.headerFields = [];
		} else {
			const row = this.row;
			if (row !== null) {
				const h = this.headers;
				for (let i = this.fieldIdx; i < this.nCols; i++) {
					if (this.unsafeKeys) defineValue(row, h[i], '');
					else row[h[i]] = '';
				}
			}
			this.sink.add(row);
		}
		this.fieldIdx = 0;
		this.row = this.headers !== null && this.sink.wantsMore() ? {} : null;
	}

	private run(text: string, final: boolean): void {
		const n = text.length;
		let pos = 0;
		let nl = -1;
		let comma = -1;
		let quote = -1;

		for (;;) {
			if (this.state === FIELD_START) {
				if (pos >= n) {
					if (final && this.fieldIdx > 0) {
						// input ended right after a separator: one more empty field
						this.setField('');
						this.endRow();
					}
					return;
				}
				if (this.fieldIdx === 0 && this.headers !== null && !this.unsafeKeys) {
					// fast path: a whole record on one line without quotes
					if (nl < pos) {
						nl = text.indexOf('\n', pos);
						if (nl === -1) nl = NONE;
					}
					if (quote < pos) {
						quote = text.indexOf('"', pos);
						if (quote === -1) quote = NONE;
					}
					if (nl !== NONE && quote > nl) {
						let end = nl;
						if (text.charCodeAt(end - 1) === CR) end--;
						if (end === pos) {
							// blank line
						} else {
							const headers = this.headers;
							const nCols = this.nCols;
							const row = this.row;
							let i = 0;
							let p = pos;
							for (;;) {
								if (comma < p) {
									comma = text.indexOf(',', p);
									if (comma === -1) comma = NONE;
								}
								if (comma >= end) {
									if (i >= nCols) this.tooManyFields();
									if (row !== null) row[headers[i]] = text.slice(p, end);
									i++;
									break;
								}
								if (i >= nCols) this.tooManyFields();
								if (row !== null) row[headers[i]] = text.slice(p, comma);
								i++;
								p = comma + 1;
							}
							this.fieldIdx = i;
							this.endRow();
						}
						this.curLine++;
						this.rowLine = this.curLine;
						pos = nl + 1;
						continue;
					}
				}
				if (text.charCodeAt(pos) === QUOTE) {
					this.state = QUOTED;
					this.quoteLine = this.curLine;
					this.acc = '';
					pos++;
					continue;
				}
				if (nl < pos) {
					nl = text.indexOf('\n', pos);
					if (nl === -1) nl = NONE;
				}
				if (comma < pos) {
					comma = text.indexOf(',', pos);
					if (comma === -1) comma = NONE;
				}
				if (comma < nl) {
					this.setField(text.slice(pos, comma));
					pos = comma + 1;
					continue;
				}
				let end: number;
				let next: number;
				if (nl === NONE) {
					if (!final) {
						if (n - pos > MAX_ROW_CHARS) {
							throw new RowParseError(
								`CSV: the field starting on line ${this.curLine} is longer than ${MAX_ROW_CHARS / 1024 / 1024} MB; not a report file`,
								this.curLine,
							);
						}
						this.carry = text.slice(pos);
						return;
					}
					end = n;
					next = n;
				} else {
					end = nl;
					next = nl + 1;
				}
				if (end > pos && text.charCodeAt(end - 1) === CR) end--;
				if (this.fieldIdx === 0 && end === pos) {
					// blank line
				} else {
					this.setField(text.slice(pos, end));
					this.endRow();
				}
				if (nl !== NONE) this.curLine++;
				this.rowLine = this.curLine;
				pos = next;
				continue;
			}

			if (this.state === QUOTED) {
				for (;;) {
					const q = text.indexOf('"', pos);
					const segEnd = q === -1 ? n : q;
					// count newlines inside the quoted text (for line numbers)
					if (nl < pos) {
						nl = text.indexOf('\n', pos);
						if (nl === -1) nl = NONE;
					}
					while (nl < segEnd) {
						this.curLine++;
						nl = text.indexOf('\n', nl + 1);
						if (nl === -1) nl = NONE;
					}
					if (q === -1) {
						if (final) {
							throw new RowParseError(
								`CSV: unclosed quote starting on line ${this.quoteLine}`,
								this.quoteLine,
							);
						}
						this.acc += text.slice(pos);
						return;
					}
					if (q + 1 >= n && !final) {
						// cannot tell yet whether this quote closes the field or starts a "" escape
						this.acc += text.slice(pos, q);
						this.carry = '"';
						return;
					}
					if (q + 1 < n && text.charCodeAt(q + 1) === QUOTE) {
						this.acc += text.slice(pos, q + 1);
						pos = q + 2;
						continue;
					}
					this.acc += text.slice(pos, q);
					pos = q + 1;
					this.state = AFTER_QUOTE;
					break;
				}
				continue;
			}

			// AFTER_QUOTE
			if (pos >= n) {
				if (!final) return;
				this.setField(this.acc);
				this.acc = '';
				this.state = FIELD_START;
				this.endRow();
				return;
			}
			const c = text.charCodeAt(pos);
			if (c === COMMA) {
				this.setField(this.acc);
				this.acc = '';
				this.state = FIELD_START;
				pos++;
				continue;
			}
			if (c === CR && pos + 1 >= n && !final) {
				this.carry = '\r';
				return;
			}
			if (c === LF || (c === CR && (pos + 1 >= n || text.charCodeAt(pos + 1) === LF))) {
				this.setField(this.acc);
				this.acc = '';
				this.state = FIELD_START;
				this.endRow();
				pos += c === CR && pos + 1 < n ? 2 : 1;
				if (pos <= n && text.charCodeAt(pos - 1) === LF) this.curLine++;
				this.rowLine = this.curLine;
				continue;
			}
			throw new RowParseError(
				`CSV: unexpected character after a closing quote on line ${this.curLine}`,
				this.curLine,
			);
		}
	}
}

function defineValue(row: Row, key: string, value: string): void {
	Object.defineProperty(row, key, { value, enumerable: true, writable: true, configurable: true });
}
