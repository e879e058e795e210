import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as zipjs from '@zip.js/zip.js';
import {
	openReportEntry,
	zipCryptoHeaderMatches,
	ZipFormatError,
	ZipIntegrityError,
	ZipPasswordError,
	type ReportEntry,
} from '../../nodes/PingOneReports/lib/zip';
import { drain, fixtureBytes, loadManifest, type ZipFixture } from '../fixtures/fixtures';

zipjs.configure({ useWebWorkers: false });

const manifest = loadManifest();
const decodable = manifest.filter((f) => f.plaintext && !f.expectError);
const hostile = manifest.filter((f) => f.expectError);

const formatOf = (name: string | null): 'csv' | 'json' => (name?.toLowerCase().endsWith('.json') ? 'json' : 'csv');

/** What the manifest's method text promises about the entry. */
function expectedShape(f: ZipFixture): Partial<ReportEntry> {
	const m = f.method;
	const encryption = /AES-(128|192|256)/.exec(m)?.[0] ?? (/ZipCrypto/.test(m) ? 'ZipCrypto' : 'none');
	const aes = /AE-([12])/.exec(m);
	return {
		encryption: encryption as ReportEntry['encryption'],
		...(aes ? { aesVersion: Number(aes[1]) as 1 | 2 } : {}),
		compression: /stored/.test(m) ? 'stored' : 'deflate',
	};
}

/** Independent oracle: @zip.js/zip.js decodes the same entry. */
async function zipjsDecode(f: ZipFixture): Promise<Buffer> {
	const reader = new zipjs.ZipReader(new zipjs.Uint8ArrayReader(fixtureBytes(f.file)), {
		...(f.password ? { password: f.password } : {}),
	});
	try {
		const entries = await reader.getEntries();
		const entry = entries.find((e) => e.filename === f.entry);
		assert.ok(entry && !entry.directory, `zip.js finds ${f.entry}`);
		return Buffer.from(await entry.getData(new zipjs.Uint8ArrayWriter()));
	} finally {
		await reader.close();
	}
}

async function decode(zip: Buffer, password: string, format: 'csv' | 'json', extra = {}) {
	const entry = await openReportEntry(zip, { password, format, ...extra });
	return { entry, result: await drain(entry.stream) };
}

describe('openReportEntry decodes real-tool fixtures', () => {
	for (const f of decodable) {
		const shape = expectedShape(f);
		test(`decodes ${f.producer} ${f.method} ${f.plaintext} (${f.file})`, async () => {
			const plaintext = fixtureBytes(f.plaintext!);
			const { entry, result } = await decode(fixtureBytes(f.file), f.password, formatOf(f.plaintext));
			assert.equal(result.error, undefined);
			assert.equal(result.ended, true);
			assert.ok(result.data.equals(plaintext), 'decoded bytes equal the plaintext file');
			assert.equal(entry.name, f.entry);
			assert.equal(entry.uncompressedSize, plaintext.length);
			assert.equal(entry.encryption, shape.encryption);
			assert.equal(entry.aesVersion, shape.aesVersion);
			if (!/several entries/.test(f.method)) assert.equal(entry.compression, shape.compression);
			// Cross-check with an independent implementation.
			const oracle = await zipjsDecode(f);
			assert.ok(oracle.equals(result.data), 'zip.js decodes the same bytes');
		});
	}

	test('multi-entry zip: csv deflated, json stored, picked by format', async () => {
		const zip = fixtureBytes('multi-entry-mixed.zip');
		const csv = await openReportEntry(zip, { password: 'multi pw', format: 'csv' });
		assert.equal(csv.compression, 'deflate');
		const json = await openReportEntry(zip, { password: 'multi pw', format: 'json' });
		assert.equal(json.compression, 'stored');
		assert.equal(json.name, 'devices.json');
		await drain(csv.stream);
		await drain(json.stream);
	});
});

describe('openReportEntry refuses hostile or unsupported zips', () => {
	for (const f of hostile) {
		test(`${f.producer} ${f.method} → ${f.expectError} naming "${f.errorMatch}" (${f.file})`, async () => {
			await assert.rejects(openReportEntry(fixtureBytes(f.file), { password: f.password, format: 'csv' }), (err: Error) => {
				assert.equal(err.name, f.expectError);
				assert.ok(err.message.includes(f.errorMatch!), err.message);
				return true;
			});
		});
	}

	test('several .csv entries: the message names each candidate', async () => {
		await assert.rejects(
			openReportEntry(fixtureBytes('ambiguous-two-csv.zip'), { password: 'multi pw', format: 'csv' }),
			(err: Error) => {
				assert.ok(err instanceof ZipFormatError);
				assert.match(err.message, /several \.csv entries \(devices\.csv, other\.csv\)/);
				return true;
			},
		);
	});

	test('no entry for the format among several files → ZipFormatError listing the entries', async () => {
		await assert.rejects(
			openReportEntry(fixtureBytes('ambiguous-two-csv.zip'), { password: 'multi pw', format: 'json' }),
			(err: Error) => err instanceof ZipFormatError && /no \.json entry \(entries: devices\.csv, other\.csv\)/.test(err.message),
		);
	});

	test('bytes that are no zip → ZipFormatError', async () => {
		await assert.rejects(
			openReportEntry(Buffer.from('<Error><Code>AccessDenied</Code></Error>'), { password: 'x', format: 'csv' }),
			(err: Error) => err instanceof ZipFormatError && /Not a zip file/.test(err.message),
		);
	});

	for (const cut of [0.5, 0.98]) {
		test(`a zip truncated to ${cut * 100}% → ZipFormatError saying truncated`, async () => {
			const zip = fixtureBytes('7zip-aes256-deflate.zip');
			await assert.rejects(
				openReportEntry(zip.subarray(0, Math.floor(zip.length * cut)), { password: 'qwertyuiop', format: 'csv' }),
				(err: Error) => err instanceof ZipFormatError && /truncated/.test(err.message),
			);
		});
	}

	test('compression ratio limit stops a highly compressed entry, stream never ends', async () => {
		const zip = fixtureBytes('7zip-aes256-zeros.zip');
		const { result } = await decode(zip, 'multi pw', 'csv', { maxCompressionRatio: 100 });
		assert.equal(result.ended, false);
		assert.ok(result.error instanceof ZipFormatError);
		assert.match(result.error.message, /compression ratio limit maxCompressionRatio exceeded/);
		assert.ok(result.data.length <= 100 * zip.length);
	});

	test('size limit counts inflated bytes and stops early', async () => {
		const { result } = await decode(fixtureBytes('7zip-aes256-zeros.zip'), 'multi pw', 'csv', {
			maxUncompressedBytes: 100_000,
		});
		assert.equal(result.ended, false);
		assert.ok(result.error instanceof ZipFormatError);
		assert.match(result.error.message, /size limit maxUncompressedBytes exceeded/);
		assert.ok(result.data.length <= 100_000);
	});

	test('with default limits the 2 MiB of zeros (ratio ~780) decode', async () => {
		const { result } = await decode(fixtureBytes('7zip-aes256-zeros.zip'), 'multi pw', 'csv');
		assert.equal(result.ended, true);
		assert.equal(result.data.length, 2 * 1024 * 1024);
		assert.ok(result.data.every((b) => b === 0));
	});
});

/** Offset of the first entry's data (after its local header). */
function firstEntryDataStart(zip: Buffer): number {
	return 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
}

/**
 * The check bytes the reader accepts for the first entry: with bit 3 the DOS time's high byte and
 * (leniently, for writers that ignore that rule) the CRC's top byte; else the CRC's top byte.
 * Read from the central directory, as the reader does (a bit-3 local header holds no CRC).
 */
function firstEntryCheckBytes(zip: Buffer): number[] {
	const cd = zip.readUInt32LE(zip.length - 22 + 16);
	const crcTop = zip[cd + 19];
	const timeHigh = zip[cd + 13];
	return zip.readUInt16LE(cd + 8) & 8 ? [timeHigh, crcTop] : [crcTop];
}

/** First candidate password whose ZipCrypto check-byte test gives `pass`. */
function zipCryptoPassword(zip: Buffer, pass: boolean, prefix: string): string {
	const header = zip.subarray(firstEntryDataStart(zip), firstEntryDataStart(zip) + 12);
	for (let i = 0; i < 100_000; i++) {
		const candidate = `${prefix}${i}`;
		if (zipCryptoHeaderMatches(Buffer.from(candidate), header, firstEntryCheckBytes(zip)) === pass) return candidate;
	}
	throw new Error('no candidate found');
}

describe('wrong passwords', () => {
	const cases = decodable.filter((f) => f.password && f.file !== 'multi-entry-mixed.zip');
	for (const f of cases) {
		test(`${f.producer} ${f.method}: wrong password → ZipPasswordError without the password in it`, async () => {
			const zip = fixtureBytes(f.file);
			// ZipCrypto's one-byte check lets 1 in 256 wrong passwords through: take one it stops.
			const wrong = /ZipCrypto/.test(f.method) ? zipCryptoPassword(zip, false, `${f.password}-`) : `${f.password}X`;
			await assert.rejects(openReportEntry(zip, { password: wrong, format: formatOf(f.plaintext) }), (err: Error) => {
				assert.ok(err instanceof ZipPasswordError, `${err.name}: ${err.message}`);
				assert.match(err.message, /^The zip password is wrong/);
				assert.ok(!err.message.includes(wrong) && !err.message.includes(f.password));
				return true;
			});
		});
	}

	test('empty password on an encrypted entry → ZipPasswordError', async () => {
		await assert.rejects(
			openReportEntry(fixtureBytes('7zip-aes256-deflate.zip'), { password: '', format: 'csv' }),
			ZipPasswordError,
		);
	});

	for (const file of ['7zip-zipcrypto-deflate.zip', '7zip-zipcrypto-stored.zip', 'infozip-zipcrypto-deflate.zip']) {
		test(`ZipCrypto wrong password that passes the check byte (${file}) → error, never 'end'`, async () => {
			const zip = fixtureBytes(file);
			const wrong = zipCryptoPassword(zip, true, 'not-the-password-');
			const entry = await openReportEntry(zip, { password: wrong, format: 'csv' });
			const result = await drain(entry.stream);
			assert.equal(result.ended, false);
			assert.ok(result.error instanceof ZipIntegrityError, String(result.error));
			assert.equal(result.error.possiblyWrongPassword, true);
			assert.match(result.error.message, /^The zip password is wrong or the file is damaged: integrity check failed \(/);
			assert.match(result.error.message, /for entry devices\.csv/);
			assert.ok(!result.error.message.includes(wrong));
		});
	}
});

describe('damaged data', () => {
	/** Copies the zip with one byte flipped `at` bytes into the only entry's data. */
	function flip(file: string, at: (dataLength: number) => number): Buffer {
		const zip = Buffer.from(fixtureBytes(file));
		const start = firstEntryDataStart(zip);
		const cdSize = zip.readUInt32LE(zip.length - 22 + 12);
		const cdOffset = zip.readUInt32LE(zip.length - 22 + 16);
		const compressedSize = zip.readUInt32LE(cdOffset + 20);
		assert.ok(cdSize > 0);
		zip[start + at(compressedSize)] ^= 0x40;
		return zip;
	}

	const cases: Array<[string, string, string, RegExp]> = [
		['7zip-aes256-stored.zip', 'qwertyuiop', 'AES-256 AE-2 stored, ciphertext byte', /HMAC-SHA1 authentication code mismatch/],
		['7zip-aes256-deflate.zip', 'qwertyuiop', 'AES-256 AE-2 deflate, ciphertext byte', /integrity check failed/i],
		['bsdtar-aes256-deflate.zip', 'libarchive pw', 'AES-256 AE-1 deflate, ciphertext byte', /integrity check failed/i],
		['zip4j-aes256-stored-json.zip', 'Pässwörd-€uro', 'AES-256 AE-2 stored, authentication code byte', /HMAC-SHA1/],
		['7zip-zipcrypto-stored.zip', '7z-Crypto!pw1', 'ZipCrypto stored, data byte', /password is wrong or the file is damaged: integrity check failed \(CRC-32 mismatch/],
		['7zip-zipcrypto-deflate.zip', '7z-Crypto!pw1', 'ZipCrypto deflate, data byte', /integrity check failed/],
		['7zip-plain-stored.zip', '', 'no encryption, stored, data byte', /Integrity check failed \(CRC-32 mismatch.*the file is damaged/],
	];
	for (const [file, password, what, pattern] of cases) {
		test(`flipped ${what} (${file}) → ZipIntegrityError, never 'end'`, async () => {
			const isAuthCode = /authentication code byte/.test(what);
			const zip = flip(file, (n) => (isAuthCode ? n - 3 : Math.floor(n / 2)));
			const format = formatOf(manifest.find((m) => m.file === file)!.plaintext);
			const { result } = await decode(zip, password, format);
			assert.equal(result.ended, false);
			assert.ok(result.error instanceof ZipIntegrityError, String(result.error));
			assert.match(result.error.message, pattern);
			if (password) assert.ok(!result.error.message.includes(password));
		});
	}

	test('a wrong size in the central directory → ZipIntegrityError (size mismatch)', async () => {
		const zip = Buffer.from(fixtureBytes('7zip-aes256-deflate.zip'));
		const cdOffset = zip.readUInt32LE(zip.length - 22 + 16);
		zip.writeUInt32LE(zip.readUInt32LE(cdOffset + 24) + 1, cdOffset + 24); // uncompressed size + 1
		const { result } = await decode(zip, 'qwertyuiop', 'csv');
		assert.equal(result.ended, false);
		assert.ok(result.error instanceof ZipIntegrityError);
		assert.match(result.error.message, /integrity check failed \(size mismatch: 36078 bytes, the zip states 36079\)/i);
	});

	test('consumer may stop early: destroying the stream closes quietly', async () => {
		const entry = await openReportEntry(fixtureBytes('7zip-aes256-deflate.zip'), { password: 'qwertyuiop', format: 'csv' });
		const first = await new Promise<Buffer>((resolve) => entry.stream.once('data', resolve));
		assert.ok(first.length > 0);
		entry.stream.destroy();
		await new Promise((resolve) => entry.stream.once('close', resolve));
	});
});
