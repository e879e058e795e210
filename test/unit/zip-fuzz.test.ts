/**
 * Fuzz test of the zip reader: mutated copies of real-tool fixtures (byte flips anywhere and in
 * the headers, truncations, length fields of local/central headers, the end record and extra
 * fields set to odd values), from a seeded PRNG so every run is the same.
 *
 * Each case must settle (reject, error, or end) within a per-case timeout; the whole run is
 * bounded in time. Nothing may throw synchronously, no exception may escape to the process, and a
 * stream that reaches 'end' must have produced exactly the original plaintext (so the mutation
 * hit bytes outside the verified data). Errors must be the reader's own classes.
 *
 * FUZZ_CASES and FUZZ_SEED (environment) change the number of cases and the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
	openReportEntry,
	ZipFormatError,
	ZipIntegrityError,
	ZipPasswordError,
	type ReportEntry,
} from '../../nodes/PingOneReports/lib/zip';
import { fixtureBytes } from '../fixtures/fixtures';

const CASES = Number(process.env.FUZZ_CASES ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2024);
const PER_CASE_MS = 5_000;
const OVERALL_MS = 90_000;

/** mulberry32: small, seeded, good enough for choosing mutations. */
function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

interface Base {
	file: string;
	password: string;
	format: 'csv' | 'json';
	plaintext: Buffer;
	zip: Buffer;
}

const bases: Base[] = (
	[
		['7zip-aes256-deflate.zip', 'qwertyuiop', 'csv', 'devices.csv'],
		['7zip-aes256-stored.zip', 'qwertyuiop', 'csv', 'devices.csv'],
		['bsdtar-aes256-deflate.zip', 'libarchive pw', 'csv', 'devices.csv'], // AE-1, data descriptor
		['zip4j-aes128-ae1-deflate.zip', 'Pässwörd-€uro', 'csv', 'devices.csv'],
		['7zip-zipcrypto-deflate.zip', '7z-Crypto!pw1', 'csv', 'devices.csv'],
		['7zip-zipcrypto-stored.zip', '7z-Crypto!pw1', 'csv', 'devices.csv'],
		['infozip-zipcrypto-deflate.zip', 'infozip pw', 'csv', 'devices.csv'], // bit 3
		['7zip-plain-deflate.zip', '', 'csv', 'devices.csv'],
		['7zip-aes256-deflate-json.zip', 'qwertyuiop', 'json', 'devices.json'],
	] as const
).map(([file, password, format, plain]) => ({ file, password, format, plaintext: fixtureBytes(plain), zip: fixtureBytes(file) }));

interface Layout {
	localEnd: number; // end of the first local header (name + extra included)
	dataEnd: number;
	cd: number;
	cdEnd: number;
	eocd: number;
	/** offsets of extra-field size words (local and central) */
	extraSizes: number[];
}

function layout(zip: Buffer): Layout {
	const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
	const cd = zip.readUInt32LE(eocd + 16);
	const cdEnd = cd + zip.readUInt32LE(eocd + 12);
	const localEnd = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
	const dataEnd = localEnd + zip.readUInt32LE(cd + 20);
	const extraSizes: number[] = [];
	const walk = (start: number, length: number) => {
		for (let p = start; p + 4 <= start + length; p += 4 + zip.readUInt16LE(p + 2)) extraSizes.push(p + 2);
	};
	walk(30 + zip.readUInt16LE(26), zip.readUInt16LE(28));
	walk(cd + 46 + zip.readUInt16LE(cd + 28), zip.readUInt16LE(cd + 30));
	return { localEnd, dataEnd, cd, cdEnd, eocd, extraSizes };
}

type Mutation = { kind: string; apply: (zip: Buffer) => Buffer };

function pickMutation(rand: () => number, base: Base): Mutation {
	const L = layout(base.zip);
	const int = (n: number) => Math.floor(rand() * n);
	const xorByte = (z: Buffer, at: number) => {
		if (at >= 0 && at < z.length) z[at] ^= 1 + int(255);
	};
	const oddValue = (bits: 16 | 32, current: number): number => {
		const max = bits === 16 ? 0xffff : 0xffffffff;
		const choices = [0, 1, max, current + 1, current - 1, current * 2, int(max + 1), current ^ (1 << int(bits))];
		const v = Math.trunc(choices[int(choices.length)]);
		return bits === 16 ? v & 0xffff : v >>> 0;
	};
	const setField = (z: Buffer, at: number, bits: 16 | 32) => {
		if (at < 0 || at + bits / 8 > z.length) return;
		if (bits === 16) z.writeUInt16LE(oddValue(16, z.readUInt16LE(at)), at);
		else z.writeUInt32LE(oddValue(32, z.readUInt32LE(at)), at);
	};
	const r = rand();
	if (r < 0.25) {
		const n = 1 + int(4);
		return {
			kind: 'flip-anywhere',
			apply: (z) => {
				for (let i = 0; i < n; i++) xorByte(z, int(z.length));
				return z;
			},
		};
	}
	if (r < 0.4) {
		// the verified data itself: must always be caught
		return { kind: 'flip-data', apply: (z) => (xorByte(z, L.localEnd + int(L.dataEnd - L.localEnd)), z) };
	}
	if (r < 0.55) {
		const regions: Array<[number, number]> = [
			[0, L.localEnd],
			[L.cd, L.cdEnd],
			[L.eocd, base.zip.length],
		];
		const [from, to] = regions[int(regions.length)];
		return { kind: 'flip-header', apply: (z) => (xorByte(z, from + int(to - from)), z) };
	}
	if (r < 0.7) {
		const at = int(base.zip.length);
		return { kind: 'truncate', apply: (z) => z.subarray(0, at) };
	}
	if (r < 0.92) {
		const fields: Array<[number, 16 | 32]> = [
			[14, 32], // local crc
			[18, 32], // local compressed size
			[22, 32], // local uncompressed size
			[26, 16], // local name length
			[28, 16], // local extra length
			[6, 16], // local flags
			[8, 16], // local method
			[L.cd + 8, 16], // central flags
			[L.cd + 10, 16], // central method
			[L.cd + 16, 32], // central crc
			[L.cd + 20, 32], // central compressed size
			[L.cd + 24, 32], // central uncompressed size
			[L.cd + 28, 16], // central name length
			[L.cd + 30, 16], // central extra length
			[L.cd + 32, 16], // central comment length
			[L.cd + 42, 32], // local header offset
			[L.eocd + 8, 16], // entries on disk
			[L.eocd + 10, 16], // entries
			[L.eocd + 12, 32], // central directory size
			[L.eocd + 16, 32], // central directory offset
			[L.eocd + 20, 16], // comment length
			...L.extraSizes.map((at) => [at, 16] as [number, 16]),
		];
		const [at, bits] = fields[int(fields.length)];
		return { kind: 'length-field', apply: (z) => (setField(z, at, bits), z) };
	}
	// inside extra fields (AES vendor version, strength, real method; timestamps)
	return {
		kind: 'extra-field',
		apply: (z) => {
			const at = L.extraSizes.length ? L.extraSizes[int(L.extraSizes.length)] + 2 + int(7) : int(z.length);
			xorByte(z, at);
			return z;
		},
	};
}

type Result =
	| { kind: 'rejected'; cls: string }
	| { kind: 'stream-error'; cls: string }
	| { kind: 'ended'; data: Buffer }
	| { kind: 'sync-throw'; error: unknown }
	| { kind: 'hang' };

const KNOWN = [ZipPasswordError, ZipIntegrityError, ZipFormatError];
const classOf = (e: unknown) => (KNOWN.some((k) => e instanceof k) ? (e as Error).name : `other:${(e as Error)?.name ?? typeof e}`);

async function runCase(zip: Buffer, base: Base): Promise<Result> {
	let pending: Promise<ReportEntry>;
	try {
		pending = openReportEntry(zip, { password: base.password, format: base.format });
	} catch (error) {
		return { kind: 'sync-throw', error };
	}
	let timer: NodeJS.Timeout | undefined;
	let entryStream: ReportEntry['stream'] | undefined;
	const timeout = new Promise<Result>((resolve) => {
		timer = setTimeout(() => resolve({ kind: 'hang' }), PER_CASE_MS);
	});
	const work = (async (): Promise<Result> => {
		let entry: ReportEntry;
		try {
			entry = await pending;
		} catch (error) {
			return { kind: 'rejected', cls: classOf(error) };
		}
		entryStream = entry.stream;
		return await new Promise<Result>((resolve) => {
			const chunks: Buffer[] = [];
			entry.stream.on('data', (c: Buffer) => chunks.push(c));
			entry.stream.once('end', () => resolve({ kind: 'ended', data: Buffer.concat(chunks) }));
			entry.stream.once('error', (e) => resolve({ kind: 'stream-error', cls: classOf(e) }));
		});
	})();
	try {
		return await Promise.race([work, timeout]);
	} finally {
		clearTimeout(timer);
		entryStream?.destroy();
	}
}

test(`zip reader fuzz: ${CASES} mutated fixtures, seed ${SEED.toString(16)}`, { timeout: OVERALL_MS + 30_000 }, async (t) => {
	const rand = prng(SEED);
	const escaped: unknown[] = [];
	const onEscape = (e: unknown) => escaped.push(e);
	process.on('uncaughtException', onEscape);
	process.on('unhandledRejection', onEscape);
	const counts: Record<string, number> = {};
	const byKind: Record<string, Record<string, number>> = {};
	const bump = (o: Record<string, number>, k: string) => (o[k] = (o[k] ?? 0) + 1);
	const problems: string[] = [];
	const started = Date.now();
	let done = 0;
	try {
		for (let i = 0; i < CASES; i++) {
			if (Date.now() - started > OVERALL_MS) break;
			const base = bases[i % bases.length];
			const mutation = pickMutation(rand, base);
			const zip = mutation.apply(Buffer.from(base.zip));
			const result = await runCase(zip, base);
			done++;
			let label: string;
			if (result.kind === 'rejected' || result.kind === 'stream-error') label = `${result.kind} ${result.cls}`;
			else if (result.kind === 'ended') label = result.data.equals(base.plaintext) ? 'ended identical' : 'ENDED WITH WRONG BYTES';
			else label = result.kind.toUpperCase();
			bump(counts, label);
			bump((byKind[mutation.kind] ??= {}), label);
			if (/WRONG|HANG|SYNC|other:/.test(label)) {
				if (problems.length < 20) problems.push(`case ${i} ${base.file} ${mutation.kind}: ${label}`);
			}
		}
		// let any late stream errors surface before the listeners go
		await new Promise((r) => setTimeout(r, 50));
	} finally {
		process.off('uncaughtException', onEscape);
		process.off('unhandledRejection', onEscape);
	}
	const elapsed = Date.now() - started;
	const lines = [
		`fuzz: ${done} cases in ${(elapsed / 1000).toFixed(1)} s (seed 0x${SEED.toString(16)}, ${bases.length} base fixtures, per-case timeout ${PER_CASE_MS} ms)`,
		...Object.entries(counts)
			.sort((a, b) => b[1] - a[1])
			.map(([k, v]) => `  ${k}: ${v}`),
		'by mutation:',
		...Object.entries(byKind).map(
			([k, v]) =>
				`  ${k}: ${Object.entries(v)
					.map(([l, n]) => `${l} ${n}`)
					.join(', ')}`,
		),
	];
	for (const l of lines) t.diagnostic(l);
	assert.ok(done >= 2000, `only ${done} cases ran within ${OVERALL_MS} ms`);
	assert.deepEqual(problems, [], problems.join('\n'));
	assert.equal(escaped.length, 0, `exceptions escaped to the process: ${escaped.map(String).join('; ')}`);
	assert.equal(counts['HANG'] ?? 0, 0);
	assert.equal(counts['ENDED WITH WRONG BYTES'] ?? 0, 0);
	// flips inside the verified data can never end
	assert.equal(byKind['flip-data']?.['ended identical'] ?? 0, 0, 'a flipped data byte went unnoticed');
});
