export type Row = Record<string, unknown>;

/** Where parsers put rows: `add(null)` counts a row that is not kept (past maxRows). */
export interface RowSink {
	add(row: Row | null): void;
	/** true while rows are still kept; parsers skip building objects once it is false */
	wantsMore(): boolean;
}
