/**
 * The one error the row parsers throw for malformed input. `line` is 1-based; `position` is the
 * 1-based column (JSON) on that line. Messages never quote cell values.
 */
export class RowParseError extends Error {
	line?: number;
	position?: number;

	constructor(message: string, line?: number, position?: number) {
		super(message);
		this.name = 'RowParseError';
		if (line !== undefined) this.line = line;
		if (position !== undefined) this.position = position;
	}
}
