export type Row = Record<string, unknown>;

/** Where parsers put rows: `add(null)` counts a row that is not kept (past maxRows). */
export interface RowSink {
	add(row: Row | null): void;
	/** true while rows are still kept; parsers skip building objects once it is false */
	wantsMore(): boolean;
}

/**
 * No report row is anywhere near this long; a row (or field) still open after this many characters
 * ends with a RowParseError instead of being carried from chunk to chunk without end.
 */
export const MAX_ROW_CHARS = 16 * 1024 * 1024;
