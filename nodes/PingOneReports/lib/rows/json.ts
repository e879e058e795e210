import { RowParseError } from './errors';
import { MAX_ROW_CHARS, type Row, type RowSink } from './types';
import { Utf8Text } from './text';

/*
 * A streaming JSON row reader. It never parses the whole file at once: a small scanner tracks
 * nesting, strings and escapes, finds the text of each row object and hands that slice to
 * JSON.parse. Accepted shapes, told apart by the first non-whitespace character and structure:
 *
 *   [ {...}, {...} ]                  a top-level array of objects
 *   {...}\n{...}\n                    NDJSON: one object per line (blank lines allowed)
 *   {"devices": [ {...}, ... ]}       one object holding exactly one non-empty array of objects,
 *   {"_embedded": {"x": [ ... ]}}     directly or one object deeper; other members are ignored
 *
 * A lone top-level object without any array of objects is one row (one-line NDJSON). An object
 * holding only empty arrays of objects gives zero rows. Empty input (or only whitespace / a BOM)
 * gives zero rows. Errors name the line and column (1-based) and, for non-object elements, the
 * element index (0-based) or the line.
 */

const WS_SP = 32;
const WS_TAB = 9;
const LF = 10;
const CR = 13;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;

const MODE_DETECT = 0;
const MODE_ARRAY = 1;
const MODE_NDJSON = 2;
const MODE_FIRST = 3; // inside the first top-level object: wrapper or first NDJSON line?
const MODE_AFTER_FIRST = 4; // the first object ended; waiting to see what follows
const MODE_END = 5; // the top-level array ended; only whitespace may follow

/** the first object is kept as text (for the NDJSON case) only up to this many characters */
const FIRST_OBJECT_KEEP = 8 * 1024 * 1024;

interface Candidate {
	path: string;
	rows: Row[];
	count: number;
	allObjects: boolean;
}

function kindOf(c: number): string {
	if (c === LBRACKET) return 'an array';
	if (c === QUOTE) return 'a string';
	if (c === 116 || c === 102) return 'a boolean';
	if (c === 110) return 'null';
	return 'a number';
}

function cleanJsonMessage(message: string): string {
	// V8 quotes a piece of the input ("… is not valid JSON"); keep the reason, not the data
	return message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
}

export class JsonRowParser {
	private readonly text = new Utf8Text();
	private readonly sink: RowSink;
	private readonly keepMax: number;
	private carry = '';
	private resume = 0;
	private mode = MODE_DETECT;
	private readonly stack: number[] = [];
	private captureStart = -1;
	// array mode
	private elemIndex = 0;
	private expectElement = true; // in the top array: an element may come next (else ',' or ']')
	private afterOpen = true;
	// first-object mode
	private rawStart = -1;
	private raw = '';
	private rawKept = true;
	private skeleton = '';
	private skelFrom = 0;
	private readonly candidates: Candidate[] = [];
	private cand: Candidate | null = null;
	private candDepth = 0;
	private readonly expectKey: boolean[] = [false, false, false];
	private readonly keys: string[] = ['', '', ''];
	// location of the current text's start
	private linesBefore = 0;
	private colBefore = 0;

	constructor(sink: RowSink, keepMax = Infinity) {
		this.sink = sink;
		this.keepMax = keepMax;
	}

	write(chunk: Buffer): void {
		const text = this.text.write(chunk);
		if (text.length === 0) return;
		this.run(this.carry === '' ? text : this.carry + text, false);
	}

	end(): void {
		this.run(this.carry + this.text.end(), true);
	}

	private locate(text: string, i: number): { line: number; column: number } {
		let line = this.linesBefore;
		let lastNl = -1;
		let k = text.indexOf('\n');
		while (k !== -1 && k < i) {
			line++;
			lastNl = k;
			k = text.indexOf('\n', k + 1);
		}
		const column = lastNl === -1 ? this.colBefore + i + 1 : i - lastNl;
		return { line: line + 1, column };
	}

	private fail(text: string, i: number, what: string): never {
		const { line, column } = this.locate(text, i);
		throw new RowParseError(`JSON: ${what} at line ${line}, column ${column}`, line, column);
	}

	private parseElement(text: string, start: number, end: number): Row {
		const slice = text.slice(start, end);
		try {
			return JSON.parse(slice) as Row;
		} catch (error) {
			const m = /at position (\d+)/.exec((error as Error).message);
			const at = m ? start + Math.min(Number(m[1]), slice.length) : start;
			this.fail(text, at, `invalid JSON (${cleanJsonMessage((error as Error).message)})`);
		}
	}

	private emit(row: Row): void {
		this.sink.add(this.sink.wantsMore() ? row : null);
	}

	/** drop text before `keepFrom`, remembering how many lines it held */
	private dropBefore(text: string, keepFrom: number): void {
		let k = text.indexOf('\n');
		let lastNl = -1;
		while (k !== -1 && k < keepFrom) {
			this.linesBefore++;
			lastNl = k;
			k = text.indexOf('\n', k + 1);
		}
		this.colBefore = lastNl === -1 ? this.colBefore + keepFrom : keepFrom - lastNl - 1;
	}

	private run(text: string, final: boolean): void {
		const n = text.length;
		const stack = this.stack;
		let pos = this.resume;

		while (pos < n) {
			const c = text.charCodeAt(pos);
			if (c === WS_SP || c === LF || c === CR || c === WS_TAB) {
				pos++;
				continue;
			}
			const depth = stack.length;
			const mode = this.mode;

			if (mode === MODE_DETECT) {
				if (c === LBRACKET) {
					this.mode = MODE_ARRAY;
					stack.push(LBRACKET);
					pos++;
					continue;
				}
				if (c === LBRACE) {
					this.mode = MODE_FIRST;
					this.rawStart = pos;
					this.skelFrom = pos;
					continue; // the '{' is handled below as a structural character
				}
				this.fail(text, pos, 'expected "[" or "{" at the start');
			}

			if (mode === MODE_AFTER_FIRST) {
				// more values follow: it is NDJSON and the first object was its first row
				if (!this.rawKept) {
					this.fail(text, pos, 'a second top-level value after a top-level object too large for one NDJSON line');
				}
				this.mode = MODE_NDJSON;
				this.emit(JSON.parse(this.raw) as Row);
				this.raw = '';
				this.skeleton = '';
				this.candidates.length = 0;
				continue;
			}

			if (mode === MODE_END) this.fail(text, pos, 'unexpected content after the top-level array');

			if (c === QUOTE) {
				// find the closing quote, skipping escaped ones
				let j = pos + 1;
				let close = -1;
				for (;;) {
					const q = text.indexOf('"', j);
					if (q === -1) break;
					let b = q - 1;
					while (text.charCodeAt(b) === BACKSLASH) b--;
					if (((q - 1 - b) & 1) === 0) {
						close = q;
						break;
					}
					j = q + 1;
				}
				if (close === -1) break; // need more text (or unclosed at the end)
				if (this.captureStart === -1) {
					if (mode === MODE_ARRAY && depth === 1) this.notAnObject(text, pos, c);
					if (mode === MODE_NDJSON && depth === 0) this.notAnObject(text, pos, c);
					if (mode === MODE_FIRST) {
						if (this.cand !== null && depth === this.candDepth) this.cand.allObjects = false;
						else if ((depth === 1 || depth === 2) && this.expectKey[depth]) {
							this.keys[depth] = JSON.parse(text.slice(pos, close + 1)) as string;
							this.expectKey[depth] = false;
						}
					}
				}
				pos = close + 1;
				continue;
			}

			if (c === LBRACE || c === LBRACKET) {
				if (this.captureStart === -1) {
					if (mode === MODE_ARRAY && depth === 1) {
						if (!this.expectElement) this.fail(text, pos, 'missing "," between elements');
						if (c === LBRACKET) this.notAnObject(text, pos, c);
						this.captureStart = pos;
					} else if (mode === MODE_NDJSON && depth === 0) {
						if (c === LBRACKET) this.notAnObject(text, pos, c);
						this.captureStart = pos;
					} else if (mode === MODE_FIRST) {
						if (this.cand !== null && depth === this.candDepth) {
							if (c === LBRACE) {
								this.captureStart = pos;
								this.skeleton += text.slice(this.skelFrom, pos) + '{}';
								this.skelFrom = -1; // set again where the row ends
							} else this.cand.allObjects = false;
						} else if (c === LBRACKET && (depth === 1 || depth === 2) && this.onlyObjects(depth)) {
							const path = depth === 1 ? this.keys[1] : `${this.keys[1]}.${this.keys[2]}`;
							this.cand = { path, rows: [], count: 0, allObjects: true };
							this.candidates.push(this.cand);
							this.candDepth = depth + 1;
						}
						if (c === LBRACE && depth < 2) {
							this.expectKey[depth + 1] = true;
						}
					}
				}
				stack.push(c);
				pos++;
				continue;
			}

			if (c === RBRACE || c === RBRACKET) {
				const open = stack.pop();
				if (open === undefined || (open === LBRACE) !== (c === RBRACE)) {
					this.fail(text, pos, `unexpected "${String.fromCharCode(c)}"`);
				}
				pos++;
				const d = depth - 1;
				if (this.captureStart !== -1) {
					if (mode === MODE_ARRAY && d === 1) {
						this.emit(this.parseElement(text, this.captureStart, pos));
						this.captureStart = -1;
						this.elemIndex++;
						this.expectElement = false;
						this.afterOpen = false;
					} else if (mode === MODE_NDJSON && d === 0) {
						this.emit(this.parseElement(text, this.captureStart, pos));
						this.captureStart = -1;
					} else if (mode === MODE_FIRST && this.cand !== null && d === this.candDepth) {
						const row = this.parseElement(text, this.captureStart, pos);
						if (this.cand.rows.length < this.keepMax) this.cand.rows.push(row);
						this.cand.count++;
						this.captureStart = -1;
						this.skelFrom = pos;
					}
					continue;
				}
				if (mode === MODE_ARRAY && d === 0) {
					if (this.expectElement && !this.afterOpen) this.fail(text, pos - 1, 'trailing "," before "]"');
					this.mode = MODE_END;
				} else if (mode === MODE_FIRST) {
					if (this.cand !== null && d === this.candDepth - 1) this.cand = null;
					if (d === 0) this.finishFirst(text, pos);
				}
				continue;
			}

			if (c === COMMA) {
				if (this.captureStart === -1) {
					if (mode === MODE_ARRAY && depth === 1) {
						if (this.expectElement) this.fail(text, pos, 'unexpected ","');
						this.expectElement = true;
					} else if (mode === MODE_FIRST && (depth === 1 || depth === 2) && stack[depth - 1] === LBRACE) {
						this.expectKey[depth] = true;
					} else if (mode === MODE_NDJSON && depth === 0) {
						this.fail(text, pos, 'unexpected ","');
					}
				}
				pos++;
				continue;
			}

			if (c === COLON) {
				if (this.captureStart === -1 && depth === 0) this.fail(text, pos, 'unexpected ":"');
				pos++;
				continue;
			}

			// a number, true, false or null (or garbage, caught by JSON.parse when inside a row)
			if (this.captureStart === -1) {
				if ((mode === MODE_ARRAY && depth === 1) || (mode === MODE_NDJSON && depth === 0)) {
					this.notAnObject(text, pos, c);
				}
				if (mode === MODE_FIRST && this.cand !== null && depth === this.candDepth) {
					this.cand.allObjects = false;
				}
			}
			pos++;
		}

		if (final) {
			this.finish(text);
			return;
		}
		// keep what is still needed: an unfinished row, the first object's text, an unfinished string
		let keepFrom = pos;
		if (this.captureStart !== -1 && this.captureStart < keepFrom) keepFrom = this.captureStart;
		if (this.mode === MODE_FIRST) {
			if (this.rawKept) {
				if (pos - this.rawStart > FIRST_OBJECT_KEEP) {
					this.rawKept = false;
				} else if (this.rawStart < keepFrom) {
					keepFrom = this.rawStart;
				}
			}
			if (this.skelFrom !== -1) {
				if (this.skelFrom < keepFrom) {
					this.skeleton += text.slice(this.skelFrom, keepFrom);
					this.skelFrom = keepFrom;
				}
				this.skelFrom -= keepFrom;
			}
			if (this.rawKept) this.rawStart -= keepFrom;
		}
		this.dropBefore(text, keepFrom);
		if (text.length - keepFrom > MAX_ROW_CHARS) {
			const { line, column } = this.locate(text, keepFrom);
			throw new RowParseError(
				`JSON: the value starting at line ${line}, column ${column} is longer than ${MAX_ROW_CHARS / 1024 / 1024} MB; not a report file`,
				line,
			);
		}
		this.carry = text.slice(keepFrom);
		this.resume = pos - keepFrom;
		if (this.captureStart !== -1) this.captureStart -= keepFrom;
	}

	/** true if the stack holds only objects (so a '[' here may be the wrapper's row array) */
	private onlyObjects(depth: number): boolean {
		for (let i = 0; i < depth; i++) if (this.stack[i] !== LBRACE) return false;
		return true;
	}

	private notAnObject(text: string, pos: number, c: number): never {
		const { line, column } = this.locate(text, pos);
		const where = this.mode === MODE_ARRAY ? `element ${this.elemIndex}` : `the value on line ${line}`;
		throw new RowParseError(
			`JSON: ${where} is ${kindOf(c)}, not an object (line ${line}, column ${column})`,
			line,
			column,
		);
	}

	private finishFirst(text: string, end: number): void {
		if (this.rawKept) this.raw = text.slice(this.rawStart, end);
		this.skeleton += text.slice(this.skelFrom, end);
		this.mode = MODE_AFTER_FIRST;
	}

	private finish(text: string): void {
		const n = text.length;
		if (this.stack.length > 0 || this.mode === MODE_FIRST) {
			// unclosed string or container
			this.fail(text, n, 'unexpected end of input');
		}
		if (this.mode !== MODE_AFTER_FIRST) return;

		try {
			JSON.parse(this.skeleton);
		} catch (error) {
			throw new RowParseError(
				`JSON: the top-level object is not valid JSON outside its rows (${cleanJsonMessage((error as Error).message)})`,
			);
		}
		const objectArrays = this.candidates.filter((c) => c.allObjects);
		const nonEmpty = objectArrays.filter((c) => c.count > 0);
		if (nonEmpty.length > 1) {
			throw new RowParseError(
				`JSON: the top-level object holds ${nonEmpty.length} arrays of objects (${nonEmpty
					.map((c) => c.path)
					.join(', ')}); expected exactly one`,
			);
		}
		if (nonEmpty.length === 1) {
			const cand = nonEmpty[0];
			for (const row of cand.rows) this.emit(row);
			for (let i = cand.rows.length; i < cand.count; i++) this.sink.add(null);
			return;
		}
		if (objectArrays.length > 0) return; // only empty arrays: zero rows
		if (!this.rawKept) {
			throw new RowParseError('JSON: the top-level object holds no array of objects and is too large for one row');
		}
		this.emit(JSON.parse(this.raw) as Row);
	}
}
