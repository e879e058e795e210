/**
 * Limits that keep hostile report files from costing unbounded time or memory: an endless row,
 * a zip with very many entries (and the size of its error message), a plain zip where a password
 * was promised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RowParseError, readRows } from '../../nodes/PingOneReports/lib/rows';
import { MAX_ROW_CHARS } from '../../nodes/PingOneReports/lib/rows/types';
import { MAX_ENTRIES, ZipFormatError, openReportEntry } from '../../nodes/PingOneReports/lib/zip';

function* chunks(head: string, fill: number, total: number, tail: string): Generator<Buffer> {
	yield Buffer.from(head);
	const block = Buffer.alloc(64 * 1024, fill);
	for (let sent = 0; sent < total; sent += block.length) yield block;
	yield Buffer.from(tail);
}

test('a CSV field longer than 16 MB ends with a RowParseError naming its line', async () => {
	const source = Readable.from(chunks('a,b\r\n1,2\r\n', 0x78 /* x */, MAX_ROW_CHARS + 1024 * 1024, ',3\r\n'));
	await assert.rejects(readRows(source, 'csv'), (error: unknown) => {
		assert.ok(error instanceof RowParseError);
		assert.match(error.message, /^CSV: the field starting on line 3 is longer than 16 MB/);
		return true;
	});
});

test('a JSON value longer than 16 MB ends with a RowParseError naming line and column', async () => {
	const source = Readable.from(chunks('[{"a":"', 0x78, MAX_ROW_CHARS + 1024 * 1024, '"}]'));
	await assert.rejects(readRows(source, 'json'), (error: unknown) => {
		assert.ok(error instanceof RowParseError);
		assert.match(error.message, /^JSON: the value starting at line 1, column \d+ is longer than 16 MB/);
		return true;
	});
});

test('a zip with more entries than a report has is refused without listing them all', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'many-'));
	try {
		const names: string[] = [];
		for (let i = 0; i <= MAX_ENTRIES; i++) {
			const name = `f${i}-${'n'.repeat(100)}.txt`;
			writeFileSync(join(dir, name), 'x');
			names.push(name);
		}
		execFileSync('zip', ['-q', '-0', 'many.zip', ...names], { cwd: dir });
		const zip = readFileSync(join(dir, 'many.zip'));
		await assert.rejects(openReportEntry(zip, { password: '', format: 'csv' }), (error: unknown) => {
			assert.ok(error instanceof ZipFormatError);
			assert.equal(error.message, `The zip holds ${MAX_ENTRIES + 1} entries; a report zip holds one or two (at most ${MAX_ENTRIES} are read)`);
			return true;
		});
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('a plain (unencrypted) zip is refused when a password was given', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'plain-'));
	try {
		writeFileSync(join(dir, 'devices.csv'), 'userId\r\ninjected\r\n');
		execFileSync('zip', ['-q', 'plain.zip', 'devices.csv'], { cwd: dir });
		const zip = readFileSync(join(dir, 'plain.zip'));
		await assert.rejects(openReportEntry(zip, { password: 'realpassword', format: 'csv' }), (error: unknown) => {
			assert.ok(error instanceof ZipFormatError);
			assert.match(error.message, /not encrypted, although a zip password was given/);
			assert.doesNotMatch(error.message, /realpassword/);
			return true;
		});
		// Without a password (tests, plain reports) it still opens.
		const entry = await openReportEntry(zip, { password: '', format: 'csv' });
		assert.equal(entry.encryption, 'none');
		entry.stream.resume();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
