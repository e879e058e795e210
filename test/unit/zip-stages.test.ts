import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import {
	IntegrityCheck,
	SizeGuard,
	WinZipAesDecipher,
	ZipCryptoDecipher,
	ZipFormatError,
	ZipIntegrityError,
	ZipPasswordError,
} from '../../nodes/PingOneReports/lib/zip';
import { fixtureBytes } from '../fixtures/fixtures';

/** The only entry's stored bytes, CRC and DOS time, read from the central directory. */
function rawEntry(file: string) {
	const zip = fixtureBytes(file);
	const eocd = zip.length - 22;
	const cd = zip.readUInt32LE(eocd + 16);
	const compressedSize = zip.readUInt32LE(cd + 20);
	const local = zip.readUInt32LE(cd + 42);
	const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
	return { data: zip.subarray(start, start + compressedSize), crc: zip.readUInt32LE(cd + 16), time: zip.readUInt16LE(cd + 12) };
}

/** Splits `data` into chunks of the given sizes, cycling. */
function chunked(data: Buffer, sizes: number[]): Buffer[] {
	const out: Buffer[] = [];
	for (let at = 0, i = 0; at < data.length; i++) {
		const n = sizes[i % sizes.length];
		out.push(data.subarray(at, at + n));
		at += n;
	}
	return out;
}

async function run(chunks: Buffer[], ...stages: NodeJS.ReadWriteStream[]): Promise<Buffer> {
	const got: Buffer[] = [];
	const sink = new Writable({
		write(c: Buffer, _e, cb) {
			got.push(c);
			cb();
		},
	});
	await pipeline(Readable.from(chunks, { objectMode: false }), ...(stages as [NodeJS.ReadWriteStream]), sink);
	return Buffer.concat(got);
}

const plaintext = fixtureBytes('devices.csv');
const SIZES: Array<[string, number[]]> = [
	['one chunk', [1 << 30]],
	['1-byte chunks', [1]],
	['odd chunks 1,2,3,5,7,9,10,11,13,15,16,17,31,33', [1, 2, 3, 5, 7, 9, 10, 11, 13, 15, 16, 17, 31, 33]],
	['4097-byte chunks', [4097]],
	['70000-byte chunks', [70000]],
];

describe('WinZipAesDecipher', () => {
	const { data } = rawEntry('7zip-aes256-stored.zip');
	for (const [label, sizes] of SIZES) {
		test(`decrypts 7-Zip AES-256 stored data fed in ${label}`, async () => {
			const out = await run(chunked(data, sizes), new WinZipAesDecipher(Buffer.from('qwertyuiop'), 3));
			assert.ok(out.equals(plaintext));
		});
	}

	test('wrong password → ZipPasswordError', async () => {
		await assert.rejects(run([data], new WinZipAesDecipher(Buffer.from('nope'), 3, { entryName: 'a.csv' })), (err: Error) => {
			assert.ok(err instanceof ZipPasswordError);
			assert.equal(err.message, 'The zip password is wrong (entry a.csv)');
			return true;
		});
	});

	test('missing authentication code → ZipIntegrityError', async () => {
		await assert.rejects(
			run([data.subarray(0, 16 + 2 + 5)], new WinZipAesDecipher(Buffer.from('qwertyuiop'), 3)),
			(err: Error) => err instanceof ZipIntegrityError && /authentication code missing/.test(err.message),
		);
	});

	test('one byte lost at the end → HMAC mismatch', async () => {
		await assert.rejects(
			run([data.subarray(0, data.length - 1)], new WinZipAesDecipher(Buffer.from('qwertyuiop'), 3)),
			(err: Error) => err instanceof ZipIntegrityError && /HMAC-SHA1/.test(err.message),
		);
	});
});

describe('ZipCryptoDecipher', () => {
	const { data, crc } = rawEntry('7zip-zipcrypto-stored.zip');
	for (const [label, sizes] of SIZES) {
		test(`decrypts 7-Zip ZipCrypto stored data fed in ${label}`, async () => {
			const out = await run(chunked(data, sizes), new ZipCryptoDecipher(Buffer.from('7z-Crypto!pw1'), crc >>> 24));
			assert.ok(out.equals(plaintext));
		});
	}

	test('Info-ZIP (bit 3) checks against the DOS time high byte', async () => {
		const entry = rawEntry('infozip-zipcrypto-stored-json.zip');
		const out = await run([entry.data], new ZipCryptoDecipher(Buffer.from('infozip pw'), entry.time >>> 8));
		assert.ok(out.equals(fixtureBytes('devices.json')));
	});

	test('check byte mismatch → ZipPasswordError', async () => {
		await assert.rejects(
			run([data], new ZipCryptoDecipher(Buffer.from('7z-Crypto!pw1'), (crc >>> 24) ^ 1, { entryName: 'b.csv' })),
			(err: Error) => err instanceof ZipPasswordError && err.message === 'The zip password is wrong (entry b.csv)',
		);
	});

	test('data shorter than the header → ZipIntegrityError', async () => {
		await assert.rejects(
			run([data.subarray(0, 5)], new ZipCryptoDecipher(Buffer.from('x'), 0)),
			(err: Error) => err instanceof ZipIntegrityError,
		);
	});
});

describe('IntegrityCheck and SizeGuard', () => {
	const data = Buffer.from('a,b\n1,2\n');
	test('passes matching CRC-32 and size', async () => {
		const out = await run([data], new IntegrityCheck({ expectedSize: data.length, expectedCrc32: crc32(data) }));
		assert.ok(out.equals(data));
	});
	test('CRC-32 mismatch names the check and the entry', async () => {
		await assert.rejects(
			run([data], new IntegrityCheck({ entryName: 'r.csv', expectedSize: data.length, expectedCrc32: crc32(data) ^ 1 })),
			(err: Error) =>
				err instanceof ZipIntegrityError &&
				/^Integrity check failed \(CRC-32 mismatch: 0x[0-9a-f]{8}, the zip states 0x[0-9a-f]{8}\) for entry r\.csv: the file is damaged$/.test(err.message),
		);
	});
	test('ZipCrypto wording says password or damage', async () => {
		await assert.rejects(
			run([data], new IntegrityCheck({ entryName: 'r.csv', expectedSize: 3, possiblyWrongPassword: true })),
			(err: Error) =>
				err instanceof ZipIntegrityError &&
				err.possiblyWrongPassword &&
				err.message.startsWith('The zip password is wrong or the file is damaged: integrity check failed (size mismatch'),
		);
	});
	test('SizeGuard refuses bytes past the limit', async () => {
		await assert.rejects(
			run([data, data], new SizeGuard({ maxBytes: data.length, maxRatio: 1e9, compressedBytes: () => 1 })),
			(err: Error) => err instanceof ZipFormatError && /maxUncompressedBytes/.test(err.message),
		);
	});
	test('SizeGuard refuses a ratio past the limit', async () => {
		await assert.rejects(
			run([data], new SizeGuard({ maxBytes: 1e9, maxRatio: 2, compressedBytes: () => 1 })),
			(err: Error) => err instanceof ZipFormatError && /maxCompressionRatio/.test(err.message),
		);
	});
});
