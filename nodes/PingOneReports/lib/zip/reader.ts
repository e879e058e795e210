/**
 * openReportEntry: finds the report entry in a (usually password-protected) zip and streams its
 * verified plaintext.
 *
 * Chain: yauzl raw entry bytes (decodeFileData: false) → ZipCryptoDecipher | WinZipAesDecipher
 * → inflateRaw (when deflated) → SizeGuard (size / ratio limits) → IntegrityCheck (CRC-32, size)
 * → consumer. Nothing buffers the whole plaintext. Checks by scheme:
 *   none / ZipCrypto: CRC-32 + size;  AE-1: HMAC-SHA1 + CRC-32 + size;  AE-2: HMAC-SHA1 + size.
 * The returned stream emits 'end' only after every check passed, otherwise 'error' (one of
 * ZipPasswordError, ZipIntegrityError, ZipFormatError) and never 'end'. Bytes it emits before
 * 'end' are not yet proven: a consumer must not commit results before 'end'.
 */
import type { Readable, Transform } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import * as yauzl from 'yauzl';
import { ZipFormatError, ZipIntegrityError, ZipPasswordError, integrityMessage } from './errors';
import { IntegrityCheck, SizeGuard } from './integrity';
import {
	WinZipAesDecipher,
	deriveWinZipAesKeys,
	winZipAesSaltLength,
	type AesStrength,
	type WinZipAesKeys,
} from './winZipAes';
import { ZipCryptoDecipher, zipCryptoHeaderMatches } from './zipCrypto';

export type ZipEncryption = 'none' | 'ZipCrypto' | 'AES-128' | 'AES-192' | 'AES-256';

export interface ReportEntryOptions {
	/** The zip password (encoded as UTF-8). Ignored for entries without encryption. */
	password: string;
	/** Picks the entry whose name ends in .csv / .json (case-insensitive); a lone file is taken whatever its name. */
	format: 'csv' | 'json';
	/** Zip-bomb guard on the bytes inflate really produces. Default 8 GiB. */
	maxUncompressedBytes?: number;
	/** Zip-bomb guard: decoded bytes per compressed byte read so far. Default 1000. */
	maxCompressionRatio?: number;
}

export interface ReportEntry {
	name: string;
	encryption: ZipEncryption;
	/** WinZip AES vendor version (AE-1 or AE-2), only for AES entries. */
	aesVersion?: 1 | 2;
	compression: 'stored' | 'deflate';
	compressedSize: number;
	uncompressedSize: number;
	/** Plaintext Buffers; 'end' only after every check passed, else 'error' and no 'end'. */
	stream: Readable;
}

export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 8 * 1024 ** 3;
export const DEFAULT_MAX_COMPRESSION_RATIO = 1000;

const COMPRESSION_NAMES: Record<number, string> = {
	1: 'Shrink',
	2: 'Reduce',
	3: 'Reduce',
	4: 'Reduce',
	5: 'Reduce',
	6: 'Implode',
	9: 'Deflate64',
	10: 'PKWARE DCL Implode',
	12: 'bzip2',
	14: 'LZMA',
	16: 'IBM z/OS CMPSC',
	18: 'IBM TERSE',
	19: 'IBM LZ77',
	20: 'Zstandard',
	93: 'Zstandard',
	94: 'MP3',
	95: 'XZ',
	96: 'JPEG',
	97: 'WavPack',
	98: 'PPMd',
};

const FLAG_ENCRYPTED = 0x1;
const FLAG_DATA_DESCRIPTOR = 0x8;
const FLAG_STRONG_ENCRYPTION = 0x40;
const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;
const METHOD_AES = 99;
const AES_EXTRA_ID = 0x9901;

interface EntryPlan {
	encryption: ZipEncryption;
	aesVersion?: 1 | 2;
	aesStrength?: AesStrength;
	method: number;
}

function describeMethod(method: number): string {
	const name = COMPRESSION_NAMES[method];
	return name ? `${name} (method ${method})` : `method ${method}`;
}

function isDirectory(entry: yauzl.Entry): boolean {
	return entry.fileName.endsWith('/');
}

/** Looks at one entry's header: encryption scheme and real compression method. */
function planEntry(entry: yauzl.Entry): EntryPlan {
	const name = entry.fileName;
	const flags = entry.generalPurposeBitFlag;
	if (flags & FLAG_STRONG_ENCRYPTION) {
		throw new ZipFormatError(`Entry ${name} uses PKWARE strong encryption, which is not supported`);
	}
	if (entry.compressionMethod === METHOD_AES) {
		const extra = entry.extraFields.find((f) => f.id === AES_EXTRA_ID);
		if (!(flags & FLAG_ENCRYPTED) || !extra || extra.data.length < 7 || extra.data.toString('latin1', 2, 4) !== 'AE') {
			throw new ZipFormatError(`Entry ${name} claims WinZip AES (method 99) but has no valid AES extra field`);
		}
		const version = extra.data.readUInt16LE(0);
		const strength = extra.data[4];
		const method = extra.data.readUInt16LE(5);
		if (version !== 1 && version !== 2) {
			throw new ZipFormatError(`Entry ${name} uses an unknown WinZip AES version ${version}`);
		}
		if (strength !== 1 && strength !== 2 && strength !== 3) {
			throw new ZipFormatError(`Entry ${name} uses an unknown WinZip AES key strength ${strength}`);
		}
		const encryption = (['AES-128', 'AES-192', 'AES-256'] as const)[strength - 1];
		return { encryption, aesVersion: version, aesStrength: strength, method };
	}
	return { encryption: flags & FLAG_ENCRYPTED ? 'ZipCrypto' : 'none', method: entry.compressionMethod };
}

function formatErrorFromYauzl(err: Error): ZipFormatError {
	const msg = err.message;
	if (/strong encryption/i.test(msg)) {
		return new ZipFormatError('The zip uses PKWARE strong encryption, which is not supported');
	}
	if (/End of central directory record signature not found/i.test(msg)) {
		return new ZipFormatError(
			'Not a zip file, or the zip is truncated: its end of central directory record is missing',
		);
	}
	if (/unexpected EOF|overflows|central directory/i.test(msg)) {
		return new ZipFormatError(`The zip is truncated or damaged (its central directory cannot be read): ${msg}`);
	}
	return new ZipFormatError(`The zip cannot be read: ${msg}`);
}

function openZip(zip: Buffer): Promise<yauzl.ZipFile> {
	return new Promise((resolve, reject) => {
		yauzl.fromBuffer(
			zip,
			{ lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: false, strictFileNames: false },
			(err, zipfile) => (err ? reject(formatErrorFromYauzl(err)) : resolve(zipfile)),
		);
	});
}

/** A report zip holds one or two files; a central directory with more is not read to its end. */
export const MAX_ENTRIES = 1000;

function listEntries(zipfile: yauzl.ZipFile): Promise<yauzl.Entry[]> {
	if (zipfile.entryCount > MAX_ENTRIES) {
		return Promise.reject(
			new ZipFormatError(`The zip holds ${zipfile.entryCount} entries; a report zip holds one or two (at most ${MAX_ENTRIES} are read)`),
		);
	}
	return new Promise((resolve, reject) => {
		const entries: yauzl.Entry[] = [];
		zipfile.on('entry', (entry: yauzl.Entry) => {
			entries.push(entry);
			zipfile.readEntry();
		});
		zipfile.once('end', () => resolve(entries));
		zipfile.once('error', (err: Error) => reject(formatErrorFromYauzl(err)));
		zipfile.readEntry();
	});
}

/** Entry names for a message: the first few, each cut short, so a hostile zip cannot bloat errors. */
function nameList(entries: yauzl.Entry[]): string {
	const shown = entries.slice(0, 5).map((e) => (e.fileName.length > 80 ? `${e.fileName.slice(0, 77)}...` : e.fileName));
	return entries.length > 5 ? `${shown.join(', ')} and ${entries.length - 5} more` : shown.join(', ');
}

function chooseEntry(entries: yauzl.Entry[], format: 'csv' | 'json'): yauzl.Entry {
	const files = entries.filter((e) => !isDirectory(e) && !e.fileName.startsWith('__MACOSX/'));
	if (files.length === 0) {
		throw new ZipFormatError(
			entries.length === 0 ? 'The zip is empty' : 'The zip holds only directories, no file entry',
		);
	}
	const suffix = `.${format}`;
	const candidates = files.filter((e) => e.fileName.toLowerCase().endsWith(suffix));
	if (candidates.length === 1) return candidates[0];
	if (candidates.length > 1) {
		throw new ZipFormatError(
			`The zip holds several ${suffix} entries (${nameList(candidates)}); cannot tell which is the report`,
		);
	}
	if (files.length === 1) return files[0];
	throw new ZipFormatError(
		`The zip holds no ${suffix} entry (entries: ${nameList(files)})`,
	);
}

function openRaw(zipfile: yauzl.ZipFile, entry: yauzl.Entry, end?: number): Promise<Readable> {
	// @types/yauzl (2.10) predates yauzl 3.3's decodeFileData option.
	const options = { decodeFileData: false, ...(end !== undefined ? { start: 0, end } : {}) } as unknown as yauzl.ZipFileOptions;
	return new Promise((resolve, reject) => {
		zipfile.openReadStream(entry, options, (err, stream) => {
			if (err) reject(new ZipFormatError(`Cannot read entry ${entry.fileName}: ${err.message}`));
			else resolve(stream);
		});
	});
}

/**
 * Opens the report entry of `zip` (csv or json) and returns its metadata and a stream of its
 * verified plaintext. Rejects (before any byte is streamed) on format problems, unsupported
 * methods, and a password that the AES verifier or ZipCrypto check byte proves wrong. Every
 * later failure (CRC-32, size, HMAC, bad deflate data, limits) arrives as the stream's 'error'.
 */
export async function openReportEntry(zip: Buffer, options: ReportEntryOptions): Promise<ReportEntry> {
	if (options.format !== 'csv' && options.format !== 'json') {
		throw new TypeError(`Unknown report format ${String(options.format)}`);
	}
	const maxBytes = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
	const maxRatio = options.maxCompressionRatio ?? DEFAULT_MAX_COMPRESSION_RATIO;
	if (!(maxBytes >= 0) || !(maxRatio > 0)) {
		throw new RangeError('maxUncompressedBytes must be >= 0 and maxCompressionRatio > 0');
	}

	const zipfile = await openZip(zip);
	try {
		const entries = await listEntries(zipfile);
		const entry = chooseEntry(entries, options.format);
		const name = entry.fileName;
		const plan = planEntry(entry);
		if (plan.method !== METHOD_STORE && plan.method !== METHOD_DEFLATE) {
			throw new ZipFormatError(
				`Entry ${name} is compressed with ${describeMethod(plan.method)}; only stored and deflate entries are supported`,
			);
		}
		checkLocalHeader(zip, entry);
		const password = Buffer.from(options.password ?? '', 'utf8');
		if (plan.encryption === 'none' && password.length > 0) {
			// The password is what authenticates a report file (the AES HMAC key comes from it): a
			// plain entry where one was promised could come from anyone.
			throw new ZipFormatError(
				`Entry ${name} is not encrypted, although a zip password was given: refusing a file that anyone could have made`,
			);
		}
		// Check the password up front so that a provably wrong one rejects here, before any byte.
		const aesKeys = await checkPassword(zipfile, entry, plan, password);
		const raw = await openRaw(zipfile, entry);
		const stream = buildChain(raw, entry, plan, password, aesKeys, maxBytes, maxRatio, () => zipfile.close());
		return {
			name,
			encryption: plan.encryption,
			...(plan.aesVersion ? { aesVersion: plan.aesVersion } : {}),
			compression: plan.method === METHOD_DEFLATE ? 'deflate' : 'stored',
			compressedSize: entry.compressedSize,
			uncompressedSize: entry.uncompressedSize,
			stream,
		};
	} catch (err) {
		zipfile.close();
		throw err;
	}
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;

/**
 * The entry's data starts after its local header, whose name and extra lengths are read from the
 * local header itself. Those must agree with the central directory, or a damaged length would move
 * the data start and a damaged file would look like a wrong password.
 */
function checkLocalHeader(zip: Buffer, entry: yauzl.Entry): void {
	const offset = entry.relativeOffsetOfLocalHeader;
	const damaged = (what: string) =>
		new ZipFormatError(
			`The local header of entry ${entry.fileName} disagrees with the central directory (${what}): the file is damaged`,
		);
	if (offset + 30 > zip.length) throw damaged('it lies beyond the end of the file');
	const signature = zip.readUInt32LE(offset);
	if (signature !== LOCAL_HEADER_SIGNATURE) {
		throw damaged(`invalid local file header signature 0x${signature.toString(16).padStart(8, '0')}`);
	}
	const flags = zip.readUInt16LE(offset + 6);
	if ((flags & ~FLAG_DATA_DESCRIPTOR) !== (entry.generalPurposeBitFlag & ~FLAG_DATA_DESCRIPTOR)) {
		throw damaged('general purpose flags');
	}
	if (zip.readUInt16LE(offset + 8) !== entry.compressionMethod) throw damaged('compression method');
	const nameLength = zip.readUInt16LE(offset + 26);
	const centralName = (entry as unknown as { fileNameRaw?: Buffer }).fileNameRaw;
	if (centralName && !zip.subarray(offset + 30, offset + 30 + nameLength).equals(centralName)) {
		throw damaged('file name');
	}
}

function zipCryptoCheckBytes(entry: yauzl.Entry): number[] {
	const crcByte = (entry.crc32 >>> 24) & 0xff;
	const timeByte = (entry.lastModFileTime >>> 8) & 0xff;
	// With bit 3 the specification says the DOS time's high byte; some writers still use the CRC's.
	return entry.generalPurposeBitFlag & FLAG_DATA_DESCRIPTOR ? [timeByte, crcByte] : [crcByte];
}

async function readHead(zipfile: yauzl.ZipFile, entry: yauzl.Entry, length: number): Promise<Buffer> {
	const end = Math.min(length, entry.compressedSize);
	const raw = await openRaw(zipfile, entry, end);
	const chunks: Buffer[] = [];
	try {
		for await (const chunk of raw) chunks.push(chunk as Buffer);
	} catch (err) {
		throw new ZipFormatError(`Cannot read entry ${entry.fileName}: ${(err as Error).message}`);
	}
	return Buffer.concat(chunks);
}

/** Verifies the password with the ZipCrypto check byte or the AES verifier; returns AES keys. */
async function checkPassword(
	zipfile: yauzl.ZipFile,
	entry: yauzl.Entry,
	plan: EntryPlan,
	password: Buffer,
): Promise<WinZipAesKeys | undefined> {
	const name = entry.fileName;
	if (plan.encryption === 'none') return undefined;
	if (plan.encryption === 'ZipCrypto') {
		const head = await readHead(zipfile, entry, 12);
		if (head.length < 12) {
			throw new ZipIntegrityError(
				`Integrity check failed (encrypted data shorter than the 12-byte ZipCrypto header) for entry ${name}: the file is damaged`,
			);
		}
		if (!zipCryptoHeaderMatches(password, head, zipCryptoCheckBytes(entry))) {
			throw new ZipPasswordError(`The zip password is wrong (entry ${name})`);
		}
		return undefined;
	}
	const strength = plan.aesStrength!;
	const saltLength = winZipAesSaltLength(strength);
	const head = await readHead(zipfile, entry, saltLength + 2);
	if (head.length < saltLength + 2) {
		throw new ZipIntegrityError(
			`Integrity check failed (encrypted data shorter than the WinZip AES salt and verifier) for entry ${name}: the file is damaged`,
		);
	}
	const keys = await deriveWinZipAesKeys(password, head.subarray(0, saltLength), strength);
	if (!keys.verifier.equals(head.subarray(saltLength, saltLength + 2))) {
		throw new ZipPasswordError(`The zip password is wrong (entry ${name})`);
	}
	return keys;
}

function buildChain(
	raw: Readable,
	entry: yauzl.Entry,
	plan: EntryPlan,
	password: Buffer,
	aesKeys: WinZipAesKeys | undefined,
	maxBytes: number,
	maxRatio: number,
	onClose: () => void,
): Readable {
	const name = entry.fileName;
	const isZipCrypto = plan.encryption === 'ZipCrypto';
	const isAes = plan.aesStrength !== undefined;
	let compressedBytes = 0;
	raw.on('data', (chunk: Buffer) => {
		compressedBytes += chunk.length;
	});

	const stages: Array<{ stream: Readable | Transform; kind: 'raw' | 'decipher' | 'inflate' | 'check' }> = [
		{ stream: raw, kind: 'raw' },
	];
	if (isZipCrypto) {
		const [checkByte, ...alternativeCheckBytes] = zipCryptoCheckBytes(entry);
		stages.push({
			stream: new ZipCryptoDecipher(password, checkByte, { entryName: name, alternativeCheckBytes }),
			kind: 'decipher',
		});
	} else if (isAes) {
		stages.push({ stream: new WinZipAesDecipher(password, plan.aesStrength!, { entryName: name, keys: aesKeys }), kind: 'decipher' });
	}
	if (plan.method === METHOD_DEFLATE) stages.push({ stream: createInflateRaw({ chunkSize: 64 * 1024 }), kind: 'inflate' });
	stages.push({
		stream: new SizeGuard({ entryName: name, maxBytes, maxRatio, compressedBytes: () => compressedBytes }),
		kind: 'check',
	});
	const output = new IntegrityCheck({
		entryName: name,
		expectedSize: entry.uncompressedSize,
		// AE-2 stores no CRC (0); AE-1, ZipCrypto and plain entries carry the real one.
		expectedCrc32: plan.aesVersion === 2 ? undefined : entry.crc32,
		possiblyWrongPassword: isZipCrypto,
	});
	stages.push({ stream: output, kind: 'check' });

	let failed = false;
	const fail = (err: Error) => {
		if (failed) return;
		failed = true;
		for (const s of stages) if (s.stream !== output) s.stream.destroy();
		if (!output.destroyed) output.destroy(err);
	};
	const mapError = (err: Error, kind: string): Error => {
		if (err instanceof ZipFormatError || err instanceof ZipIntegrityError || err instanceof ZipPasswordError) return err;
		if (kind === 'inflate') {
			return new ZipIntegrityError(
				integrityMessage(`invalid deflate data: ${err.message}`, name, isZipCrypto),
				isZipCrypto,
			);
		}
		if (kind === 'raw') return new ZipFormatError(`Cannot read entry ${name}: ${err.message}`);
		return new ZipFormatError(`Cannot decode entry ${name}: ${err.message}`);
	};
	for (let i = 0; i < stages.length; i++) {
		const { stream, kind } = stages[i];
		if (stream !== output) {
			stream.on('error', (err: Error) => fail(mapError(err, kind)));
			stream.pipe(stages[i + 1].stream as Transform);
		}
	}
	output.on('error', () => {
		if (!failed) {
			failed = true;
			for (const s of stages) if (s.stream !== output) s.stream.destroy();
		}
	});
	output.once('close', () => {
		for (const s of stages) if (s.stream !== output && !s.stream.destroyed) s.stream.destroy();
		onClose();
	});
	return output;
}
