/**
 * Hostile zips, one table: every case names the error it must give (class and message), and
 * none may let a byte reach the stream's 'end' or a row reach the output. The table prints as
 * `case | expected | got` (test diagnostics, shown by the spec reporter).
 *
 * Sources: the real-tool fixtures of test/fixtures (fixtures.json), copies of them with bytes
 * flipped or cut, and one zip bomb built here (64 MiB of zeros, deflated by zlib).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateRawSync } from 'node:zlib';

import {
	openReportEntry,
	zipCryptoHeaderMatches,
	ZipFormatError,
	ZipIntegrityError,
	ZipPasswordError,
	type ReportEntryOptions,
} from '../../nodes/PingOneReports/lib/zip';
import { readRows, RowParseError } from '../../nodes/PingOneReports/lib/rows';
import { drain, fixtureBytes } from '../fixtures/fixtures';

type ErrorClass = 'ZipPasswordError' | 'ZipIntegrityError' | 'ZipFormatError' | 'RowParseError';

interface Outcome {
	/** the error's class name, or 'rows' when it succeeded */
	got: string;
	message: string;
	error?: Error;
	/** did the plaintext stream emit 'end'? */
	ended: boolean;
	/** plaintext bytes that reached the consumer (before the error) */
	bytes: number;
	/** rows output (only when rows were parsed and it succeeded) */
	rows: number;
}

interface Case {
	name: string;
	/** an error class and a pattern its message must match, or a row count for a success */
	expect: { error: ErrorClass; match: RegExp } | { rows: number; entry?: string };
	run: () => Promise<Outcome>;
	/** set when the product code is known to fall short (the test stays, marked todo) */
	todo?: string;
	/** extra checks on the outcome */
	check?: (o: Outcome) => void;
}

const table: Array<{ name: string; expected: string; got: string; ok: boolean; todo?: boolean }> = [];

function className(err: unknown): string {
	if (err instanceof ZipPasswordError) return 'ZipPasswordError';
	if (err instanceof ZipIntegrityError) return 'ZipIntegrityError';
	if (err instanceof ZipFormatError) return 'ZipFormatError';
	if (err instanceof RowParseError) return 'RowParseError';
	return err instanceof Error ? `${err.constructor.name}(!)` : typeof err;
}

/** Opens the report entry and drains it (bytes), or parses it (rows). */
async function attempt(
	zip: Buffer,
	password: string,
	format: 'csv' | 'json',
	options: Partial<ReportEntryOptions> = {},
	parse = false,
): Promise<Outcome> {
	let entry;
	try {
		entry = await openReportEntry(zip, { password, format, ...options });
	} catch (error) {
		return { got: className(error), message: (error as Error).message, error: error as Error, ended: false, bytes: 0, rows: 0 };
	}
	let ended = false;
	let bytes = 0;
	entry.stream.on('end', () => (ended = true));
	entry.stream.on('data', (c: Buffer) => (bytes += c.length));
	if (parse) {
		try {
			const { rows } = await readRows(entry.stream, format);
			return { got: 'rows', message: `${rows.length} rows from ${entry.name}`, ended, bytes, rows: rows.length };
		} catch (error) {
			return { got: className(error), message: (error as Error).message, error: error as Error, ended, bytes, rows: 0 };
		}
	}
	const result = await drain(entry.stream);
	if (result.error) {
		return { got: className(result.error), message: result.error.message, error: result.error, ended: result.ended, bytes: result.data.length, rows: 0 };
	}
	return { got: 'rows', message: `${result.data.length} bytes from ${entry.name}`, ended: result.ended, bytes: result.data.length, rows: -1 };
}

// ------------------------------------------------------------------------------ zip byte helpers

const eocdOf = (zip: Buffer) => zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
const cdOf = (zip: Buffer) => zip.readUInt32LE(eocdOf(zip) + 16);
const dataStartOf = (zip: Buffer) => 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);

function mutate(file: string, fn: (zip: Buffer) => void): Buffer {
	const zip = Buffer.from(fixtureBytes(file));
	fn(zip);
	return zip;
}

/** The check bytes the reader accepts for the first entry (see zipCrypto facts). */
function checkBytes(zip: Buffer): number[] {
	const cd = cdOf(zip);
	const crcTop = zip[cd + 19];
	const timeHigh = zip[cd + 13];
	return zip.readUInt16LE(cd + 8) & 8 ? [timeHigh, crcTop] : [crcTop];
}

/** A wrong ZipCrypto password that the one-byte check stops (pass=false) or lets through (pass=true). */
function wrongZipCryptoPassword(zip: Buffer, pass: boolean): string {
	const head = zip.subarray(dataStartOf(zip), dataStartOf(zip) + 12);
	for (let i = 0; i < 100_000; i++) {
		const candidate = `not-the-password-${i}`;
		if (zipCryptoHeaderMatches(Buffer.from(candidate), head, checkBytes(zip)) === pass) return candidate;
	}
	throw new Error('no candidate password found');
}

/** A one-entry zip without encryption, written here (for the bomb): method 8, sizes as given. */
function plainZip(name: string, data: Buffer, compressed: Buffer, statedSize = data.length): Buffer {
	const nameBytes = Buffer.from(name, 'utf8');
	const crc = crc32(data);
	const local = Buffer.alloc(30);
	local.writeUInt32LE(0x04034b50, 0);
	local.writeUInt16LE(20, 4);
	local.writeUInt16LE(0x0800, 6);
	local.writeUInt16LE(8, 8);
	local.writeUInt32LE(crc, 14);
	local.writeUInt32LE(compressed.length, 18);
	local.writeUInt32LE(statedSize, 22);
	local.writeUInt16LE(nameBytes.length, 26);
	const central = Buffer.alloc(46);
	central.writeUInt32LE(0x02014b50, 0);
	central.writeUInt16LE(20, 4);
	central.writeUInt16LE(20, 6);
	central.writeUInt16LE(0x0800, 8);
	central.writeUInt16LE(8, 10);
	central.writeUInt32LE(crc, 16);
	central.writeUInt32LE(compressed.length, 20);
	central.writeUInt32LE(statedSize, 24);
	central.writeUInt16LE(nameBytes.length, 28);
	const cdOffset = local.length + nameBytes.length + compressed.length;
	const cdSize = central.length + nameBytes.length;
	const eocd = Buffer.alloc(22);
	eocd.writeUInt32LE(0x06054b50, 0);
	eocd.writeUInt16LE(1, 8);
	eocd.writeUInt16LE(1, 10);
	eocd.writeUInt32LE(cdSize, 12);
	eocd.writeUInt32LE(cdOffset, 16);
	return Buffer.concat([local, nameBytes, compressed, central, nameBytes, eocd]);
}

let bomb: Buffer | undefined;
function zipBomb(): Buffer {
	if (!bomb) {
		const zeros = Buffer.alloc(64 * 1024 * 1024);
		bomb = plainZip('devices.csv', zeros, deflateRawSync(zeros, { level: 9 }));
	}
	return bomb;
}

// ------------------------------------------------------------------------------------ the table

const CSV_PLAIN = fixtureBytes('devices.csv');
const CSV_ROWS = 200; // devices.csv: 200 records (some with quoted newlines); devices.json: the same 200

const cases: Case[] = [
	// --- wrong passwords
	{
		name: 'wrong password, AES-256 AE-2 (7-Zip)',
		expect: { error: 'ZipPasswordError', match: /^The zip password is wrong \(entry devices\.csv\)$/ },
		run: () => attempt(fixtureBytes('7zip-aes256-deflate.zip'), 'qwertyuiopX', 'csv'),
	},
	{
		name: 'wrong password, AES-128 AE-1 (zip4j)',
		expect: { error: 'ZipPasswordError', match: /^The zip password is wrong/ },
		run: () => attempt(fixtureBytes('zip4j-aes128-ae1-deflate.zip'), 'Pässwörd-€uro!', 'csv'),
	},
	{
		name: 'wrong password, ZipCrypto (7-Zip), stopped by the check byte',
		expect: { error: 'ZipPasswordError', match: /^The zip password is wrong/ },
		run: () => {
			const zip = fixtureBytes('7zip-zipcrypto-deflate.zip');
			return attempt(zip, wrongZipCryptoPassword(zip, false), 'csv');
		},
	},
	{
		name: 'wrong password, ZipCrypto bit 3 (Info-ZIP), stopped by the check byte',
		expect: { error: 'ZipPasswordError', match: /^The zip password is wrong/ },
		run: () => {
			const zip = fixtureBytes('infozip-zipcrypto-deflate.zip');
			return attempt(zip, wrongZipCryptoPassword(zip, false), 'csv');
		},
	},
	{
		name: 'wrong password passing the check byte, ZipCrypto deflate (7-Zip)',
		expect: { error: 'ZipIntegrityError', match: /^The zip password is wrong or the file is damaged: integrity check failed/ },
		run: () => {
			const zip = fixtureBytes('7zip-zipcrypto-deflate.zip');
			return attempt(zip, wrongZipCryptoPassword(zip, true), 'csv');
		},
		check: (o) => assert.equal((o.error as ZipIntegrityError).possiblyWrongPassword, true),
	},
	{
		name: 'wrong password passing the check byte, ZipCrypto stored (7-Zip): CRC catches it',
		expect: { error: 'ZipIntegrityError', match: /^The zip password is wrong or the file is damaged: integrity check failed \(CRC-32 mismatch/ },
		run: () => {
			const zip = fixtureBytes('7zip-zipcrypto-stored.zip');
			return attempt(zip, wrongZipCryptoPassword(zip, true), 'csv');
		},
	},
	{
		name: 'wrong password passing the check byte, ZipCrypto bit 3 (Info-ZIP)',
		expect: { error: 'ZipIntegrityError', match: /^The zip password is wrong or the file is damaged/ },
		run: () => {
			const zip = fixtureBytes('infozip-zipcrypto-deflate.zip');
			return attempt(zip, wrongZipCryptoPassword(zip, true), 'csv');
		},
	},
	// --- flipped bytes
	{
		name: 'flipped data byte, AES-256 AE-2 deflate',
		expect: { error: 'ZipIntegrityError', match: /integrity check failed/i },
		run: () => attempt(mutate('7zip-aes256-deflate.zip', (z) => (z[dataStartOf(z) + 100] ^= 0x01)), 'qwertyuiop', 'csv'),
	},
	{
		name: 'flipped data byte, AES-256 AE-2 stored',
		expect: { error: 'ZipIntegrityError', match: /HMAC-SHA1 authentication code mismatch/ },
		run: () => attempt(mutate('7zip-aes256-stored.zip', (z) => (z[dataStartOf(z) + 5000] ^= 0x01)), 'qwertyuiop', 'csv'),
	},
	{
		name: 'flipped authentication code byte, AES-256 AE-1 (libarchive)',
		expect: { error: 'ZipIntegrityError', match: /HMAC-SHA1/ },
		run: () => attempt(mutate('bsdtar-aes256-deflate.zip', (z) => (z[dataStartOf(z) + z.readUInt32LE(cdOf(z) + 20) - 3] ^= 0x80)), 'libarchive pw', 'csv'),
	},
	{
		name: 'flipped data byte, ZipCrypto stored',
		expect: { error: 'ZipIntegrityError', match: /integrity check failed \(CRC-32 mismatch/ },
		run: () => attempt(mutate('7zip-zipcrypto-stored.zip', (z) => (z[dataStartOf(z) + 5000] ^= 0x01)), '7z-Crypto!pw1', 'csv'),
	},
	{
		name: 'flipped data byte, no encryption, deflate',
		expect: { error: 'ZipIntegrityError', match: /^Integrity check failed \(.*\) for entry devices\.csv: the file is damaged$/ },
		run: () => attempt(mutate('7zip-plain-deflate.zip', (z) => (z[dataStartOf(z) + 2000] ^= 0x10)), '', 'csv'),
	},
	{
		name: 'flipped local header signature',
		expect: { error: 'ZipFormatError', match: /local file header signature/ },
		run: () => attempt(mutate('7zip-aes256-deflate.zip', (z) => (z[0] ^= 0x01)), 'qwertyuiop', 'csv'),
	},
	{
		name: 'flipped local header name length (data start moves), AES',
		expect: { error: 'ZipFormatError', match: /local header/i },
		run: () => attempt(mutate('7zip-aes256-deflate.zip', (z) => z.writeUInt16LE(z.readUInt16LE(26) + 1, 26)), 'qwertyuiop', 'csv'),
	},
	{
		name: 'flipped CRC byte in the central directory, no encryption',
		expect: { error: 'ZipIntegrityError', match: /CRC-32 mismatch/ },
		run: () => attempt(mutate('7zip-plain-deflate.zip', (z) => (z[cdOf(z) + 16] ^= 0x01)), '', 'csv'),
	},
	{
		name: 'flipped central directory signature',
		expect: { error: 'ZipFormatError', match: /central directory/ },
		run: () => attempt(mutate('7zip-aes256-deflate.zip', (z) => (z[cdOf(z)] ^= 0x01)), 'qwertyuiop', 'csv'),
	},
	{
		name: 'flipped compression method in the central directory (8 → 9, Deflate64)',
		expect: { error: 'ZipFormatError', match: /Deflate64/ },
		run: () => attempt(mutate('7zip-plain-deflate.zip', (z) => (z[cdOf(z) + 10] = 9)), '', 'csv'),
	},
	{
		name: 'central directory uncompressed size + 1',
		expect: { error: 'ZipIntegrityError', match: /size mismatch: 36078 bytes, the zip states 36079/ },
		run: () => attempt(mutate('7zip-aes256-deflate.zip', (z) => z.writeUInt32LE(z.readUInt32LE(cdOf(z) + 24) + 1, cdOf(z) + 24)), 'qwertyuiop', 'csv'),
	},
	// --- truncations
	{
		name: 'truncated to 0 bytes',
		expect: { error: 'ZipFormatError', match: /^Not a zip file, or the zip is truncated/ },
		run: () => attempt(Buffer.alloc(0), 'qwertyuiop', 'csv'),
	},
	{
		name: 'truncated to half (AES-256)',
		expect: { error: 'ZipFormatError', match: /truncated/ },
		run: () => {
			const z = fixtureBytes('7zip-aes256-deflate.zip');
			return attempt(z.subarray(0, z.length >> 1), 'qwertyuiop', 'csv');
		},
	},
	{
		name: 'last byte cut (end of central directory damaged)',
		expect: { error: 'ZipFormatError', match: /truncated|cannot be read/ },
		run: () => {
			const z = fixtureBytes('7zip-zipcrypto-deflate.zip');
			return attempt(z.subarray(0, z.length - 1), '7z-Crypto!pw1', 'csv');
		},
	},
	{
		name: 'cut inside the central directory',
		expect: { error: 'ZipFormatError', match: /truncated/ },
		run: () => {
			const z = fixtureBytes('7zip-zipcrypto-deflate.zip');
			return attempt(z.subarray(0, cdOf(z) + 20), '7z-Crypto!pw1', 'csv');
		},
	},
	// --- entries
	{
		name: 'two .csv entries (ambiguous)',
		expect: { error: 'ZipFormatError', match: /several \.csv entries \(devices\.csv, other\.csv\); cannot tell which is the report/ },
		run: () => attempt(fixtureBytes('ambiguous-two-csv.zip'), 'multi pw', 'csv'),
	},
	{
		name: 'csv + json + txt entries, format json: picks devices.json',
		expect: { rows: CSV_ROWS, entry: 'devices.json' },
		run: () => attempt(fixtureBytes('multi-entry-mixed.zip'), 'multi pw', 'json', {}, true),
	},
	{
		name: 'csv + json + txt entries, format csv: picks devices.csv',
		expect: { rows: CSV_ROWS, entry: 'devices.csv' },
		run: () => attempt(fixtureBytes('multi-entry-mixed.zip'), 'multi pw', 'csv', {}, true),
	},
	{
		name: 'directory entries only',
		expect: { error: 'ZipFormatError', match: /^The zip holds only directories, no file entry$/ },
		run: () => attempt(fixtureBytes('directory-only.zip'), '', 'csv'),
	},
	// --- methods and schemes
	{
		name: 'bzip2 (7-Zip)',
		expect: { error: 'ZipFormatError', match: /compressed with bzip2 \(method 12\); only stored and deflate/ },
		run: () => attempt(fixtureBytes('7zip-bzip2.zip'), '', 'csv'),
	},
	{
		name: 'bzip2 inside AES-256 (7-Zip)',
		expect: { error: 'ZipFormatError', match: /compressed with bzip2 \(method 12\)/ },
		run: () => attempt(fixtureBytes('7zip-aes256-bzip2.zip'), 'multi pw', 'csv'),
	},
	{
		name: 'Deflate64 (7-Zip)',
		expect: { error: 'ZipFormatError', match: /compressed with Deflate64 \(method 9\)/ },
		run: () => attempt(fixtureBytes('7zip-deflate64.zip'), '', 'csv'),
	},
	{
		name: 'LZMA (7-Zip)',
		expect: { error: 'ZipFormatError', match: /compressed with LZMA \(method 14\)/ },
		run: () => attempt(fixtureBytes('7zip-lzma.zip'), '', 'csv'),
	},
	{
		name: 'PKWARE strong encryption (bit 6 set in a 7-Zip zip)',
		expect: { error: 'ZipFormatError', match: /PKWARE strong encryption, which is not supported/ },
		run: () => attempt(fixtureBytes('crafted-strong-encryption.zip'), '7z-Crypto!pw1', 'csv'),
	},
	// --- zip bombs
	{
		name: 'zip bomb: 64 MiB of zeros, ratio ~1030, default limits',
		expect: { error: 'ZipFormatError', match: /compression ratio limit maxCompressionRatio exceeded/ },
		run: () => attempt(zipBomb(), '', 'csv'),
	},
	{
		name: 'zip bomb: 64 MiB of zeros, maxUncompressedBytes 1 MiB',
		expect: { error: 'ZipFormatError', match: /more than 1048576 bytes \(size limit maxUncompressedBytes exceeded\)/ },
		run: () => attempt(zipBomb(), '', 'csv', { maxUncompressedBytes: 1024 * 1024, maxCompressionRatio: 1e9 }),
		check: (o) => assert.ok(o.bytes <= 1024 * 1024, `${o.bytes} bytes passed the limit`),
	},
	{
		name: 'zip bomb: 2 MiB of zeros in AES-256, maxCompressionRatio 100',
		expect: { error: 'ZipFormatError', match: /more than 100 times its compressed size/ },
		run: () => attempt(fixtureBytes('7zip-aes256-zeros.zip'), 'multi pw', 'csv', { maxCompressionRatio: 100 }),
	},
	{
		name: 'zip bomb with a lying central directory (states 100 bytes)',
		expect: { error: 'ZipIntegrityError', match: /size mismatch: more than the 100 bytes the zip states/ },
		run: () => {
			const zeros = Buffer.alloc(8 * 1024 * 1024);
			return attempt(plainZip('devices.csv', zeros, deflateRawSync(zeros), 100), '', 'csv');
		},
		check: (o) => assert.ok(o.bytes <= 100 + 64 * 1024, `stopped early (${o.bytes} bytes passed)`),
	},
	// --- rows
	{
		name: 'CSV with an unclosed quote (AES-256)',
		expect: { error: 'RowParseError', match: /line 41/ },
		run: () => attempt(fixtureBytes('7zip-aes256-unclosed-quote.zip'), 'multi pw', 'csv', {}, true),
		check: (o) => assert.equal((o.error as RowParseError).line, 41),
	},
	{
		name: 'JSON missing a comma (AES-256)',
		expect: { error: 'RowParseError', match: /line 20, column 5/ },
		run: () => attempt(fixtureBytes('7zip-aes256-missing-comma.zip'), 'multi pw', 'json', {}, true),
		check: (o) => {
			assert.equal((o.error as RowParseError).line, 20);
			assert.equal((o.error as RowParseError).position, 5);
		},
	},
	{
		name: 'empty report: CSV header only',
		expect: { rows: 0 },
		run: () => attempt(fixtureBytes('7zip-aes256-header-only.zip'), 'multi pw', 'csv', {}, true),
	},
	{
		name: 'empty report: JSON []',
		expect: { rows: 0 },
		run: () => attempt(fixtureBytes('7zip-aes256-empty-json.zip'), 'multi pw', 'json', {}, true),
	},
];

const SECRETS = ['qwertyuiop', '7z-Crypto!pw1', 'multi pw', 'libarchive pw', 'Pässwörd-€uro', 'not-the-password-'];

describe('hostile zips: one clear error each, and no row or byte reaches the end', () => {
	after(() => {
		const w1 = Math.max(4, ...table.map((r) => r.name.length));
		const w2 = Math.max(8, ...table.map((r) => r.expected.length));
		const lines = [
			`${'case'.padEnd(w1)} | ${'expected error'.padEnd(w2)} | got`,
			`${'-'.repeat(w1)}-|-${'-'.repeat(w2)}-|-${'-'.repeat(20)}`,
			...table.map((r) => `${r.name.padEnd(w1)} | ${r.expected.padEnd(w2)} | ${r.got}${r.ok ? '' : r.todo ? '   <-- TODO (product fix pending)' : '   <-- MISMATCH'}`),
		];
		console.log(`\nHostile-zip table (${table.length} cases)\n${lines.join('\n')}\n`);
	});

	for (const c of cases) {
		const expected =
			'error' in c.expect ? `${c.expect.error} /${c.expect.match.source}/` : `${c.expect.rows} rows${c.expect.entry ? ` from ${c.expect.entry}` : ''}`;
		test(c.name, c.todo ? { todo: c.todo } : {}, async (t) => {
			const o = await c.run();
			const got = o.got === 'rows' ? (o.rows >= 0 ? `${o.rows} rows (${o.message})` : o.message) : `${o.got}: ${o.message}`;
			let ok = true;
			try {
				if ('error' in c.expect) {
					assert.equal(o.got, c.expect.error, got);
					assert.match(o.message, c.expect.match);
					// a zip error: the plaintext stream never ends; a row error: the zip was fine, the rows are not
					if (c.expect.error !== 'RowParseError') assert.equal(o.ended, false, "the plaintext stream must never reach 'end'");
					assert.equal(o.rows, 0, 'no rows output');
					for (const s of SECRETS) assert.ok(!o.message.includes(s), `the message holds the password ${s}`);
				} else {
					assert.equal(o.got, 'rows', got);
					assert.equal(o.rows, c.expect.rows);
					assert.equal(o.ended, true);
					if (c.expect.entry) assert.match(o.message, new RegExp(`from ${c.expect.entry.replace('.', '\\.')}$`));
				}
				c.check?.(o);
			} catch (error) {
				ok = false;
				throw error;
			} finally {
				table.push({ name: c.name, expected, got: got.length > 160 ? `${got.slice(0, 157)}...` : got, ok, todo: c.todo !== undefined });
				t.diagnostic(`expected ${expected} | got ${got}`);
			}
		});
	}

	test('sanity: the undamaged fixture decodes to devices.csv', async () => {
		const entry = await openReportEntry(fixtureBytes('7zip-aes256-deflate.zip'), { password: 'qwertyuiop', format: 'csv' });
		const r = await drain(entry.stream);
		assert.ok(r.ended && r.data.equals(CSV_PLAIN));
	});
});
