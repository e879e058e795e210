/** Stages that check the decoded bytes: IntegrityCheck (CRC-32, size) and SizeGuard (zip bombs). */
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { ZipIntegrityError, ZipLimitError, integrityMessage } from './errors';

export interface IntegrityCheckOptions {
	entryName?: string;
	/** The size the central directory states; checked at flush, and as soon as it is passed. */
	expectedSize?: number;
	/** The CRC-32 the central directory states; omit when there is none (WinZip AE-2). */
	expectedCrc32?: number;
	/** Word failures as "the password is wrong or the file is damaged" (ZipCrypto). */
	possiblyWrongPassword?: boolean;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** Passes bytes through; fails unless the total size and CRC-32 match at the end. */
export class IntegrityCheck extends Transform {
	private crc = 0;
	private size = 0;
	private readonly entryName: string;
	private readonly expectedSize: number | undefined;
	private readonly expectedCrc32: number | undefined;
	private readonly possiblyWrongPassword: boolean;

	constructor(options: IntegrityCheckOptions = {}) {
		super();
		this.entryName = options.entryName ?? 'entry';
		this.expectedSize = options.expectedSize;
		this.expectedCrc32 = options.expectedCrc32;
		this.possiblyWrongPassword = options.possiblyWrongPassword ?? false;
	}

	/** Bytes seen so far. */
	get bytes(): number {
		return this.size;
	}

	private fail(check: string): ZipIntegrityError {
		return new ZipIntegrityError(
			integrityMessage(check, this.entryName, this.possiblyWrongPassword),
			this.possiblyWrongPassword,
		);
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
		this.size += chunk.length;
		if (this.expectedSize !== undefined && this.size > this.expectedSize) {
			return callback(this.fail(`size mismatch: more than the ${this.expectedSize} bytes the zip states`));
		}
		if (this.expectedCrc32 !== undefined) this.crc = crc32(chunk, this.crc);
		callback(null, chunk);
	}

	override _flush(callback: TransformCallback): void {
		if (this.expectedSize !== undefined && this.size !== this.expectedSize) {
			return callback(this.fail(`size mismatch: ${this.size} bytes, the zip states ${this.expectedSize}`));
		}
		if (this.expectedCrc32 !== undefined && this.crc >>> 0 !== this.expectedCrc32 >>> 0) {
			return callback(this.fail(`CRC-32 mismatch: ${hex(this.crc)}, the zip states ${hex(this.expectedCrc32)}`));
		}
		callback();
	}
}

export interface SizeGuardOptions {
	entryName?: string;
	/** Most decoded bytes allowed. */
	maxBytes: number;
	/** Most decoded bytes per compressed byte read so far. */
	maxRatio: number;
	/** Compressed bytes read so far (counted where they enter the chain). */
	compressedBytes: () => number;
}

/** Counts the bytes that really come out of inflate and stops a zip bomb early. */
export class SizeGuard extends Transform {
	private size = 0;
	private readonly options: SizeGuardOptions;

	constructor(options: SizeGuardOptions) {
		super();
		this.options = options;
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
		this.size += chunk.length;
		const { maxBytes, maxRatio, entryName = 'entry' } = this.options;
		if (this.size > maxBytes) {
			return callback(
				new ZipLimitError(
					`Entry ${entryName} inflates to more than ${maxBytes} bytes (size limit maxUncompressedBytes exceeded); refusing a possible zip bomb`,
					'size',
				),
			);
		}
		const compressed = Math.max(1, this.options.compressedBytes());
		if (this.size > compressed * maxRatio) {
			return callback(
				new ZipLimitError(
					`Entry ${entryName} inflates to more than ${maxRatio} times its compressed size (compression ratio limit maxCompressionRatio exceeded); refusing a possible zip bomb`,
					'ratio',
				),
			);
		}
		callback(null, chunk);
	}
}
