/**
 * A checksum over rows: SHA-256 of every key and value, in order, with separators that cannot
 * occur in the data's structure. Two row lists have the same checksum iff they have the same
 * rows, keys (in order) and values. Values that are not strings are written as JSON.
 */
import { createHash } from 'node:crypto';

export interface RowsChecksum {
	rows: number;
	sha256: string;
}

export function rowsChecksum(rows: ArrayLike<Record<string, unknown>>): RowsChecksum {
	const hash = createHash('sha256');
	let text = '';
	for (let i = 0; i < rows.length; i++) {
		const row = rows[i];
		for (const key in row) {
			const v = row[key];
			text += key + '\u001f' + (typeof v === 'string' ? v : JSON.stringify(v)) + '\u001e';
		}
		text += '\u001d';
		if (text.length > 1 << 20) {
			hash.update(text, 'utf8');
			text = '';
		}
	}
	hash.update(text, 'utf8');
	return { rows: rows.length, sha256: hash.digest('hex') };
}
