/**
 * Traditional PKWARE encryption ("ZipCrypto", APPNOTE 6.1) as a Transform: ciphertext in
 * (12-byte encryption header + data), plaintext out.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ZipIntegrityError, ZipPasswordError } from './errors';

/** CRC-32 table (polynomial 0xEDB88320) as signed 32-bit ints, for the key updates. */
const CRC_TABLE: Int32Array = (() => {
	const t = new Int32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		t[n] = c | 0;
	}
	return t;
})();

const HEADER_LENGTH = 12;

export interface ZipCryptoDecipherOptions {
	/** Entry name, for error messages. */
	entryName?: string;
	/**
	 * Further accepted values for the header's last byte. Used when bit 3 is set: the specification
	 * says the DOS time's high byte, some writers still use the CRC's top byte.
	 */
	alternativeCheckBytes?: number[];
}

/**
 * Decrypts the 12-byte encryption header with `password` and tells whether its last byte is one
 * of `checkBytes`. A match does not prove the password (about 1 wrong password in 256 passes).
 */
export function zipCryptoHeaderMatches(password: Buffer, header: Uint8Array, checkBytes: number[]): boolean {
	if (header.length < HEADER_LENGTH) return false;
	const d = new ZipCryptoDecipher(password, checkBytes[0] ?? 0);
	const plain = Buffer.from(header.subarray(0, HEADER_LENGTH));
	d.decryptHeaderForCheck(plain);
	d.destroy();
	return checkBytes.some((b) => (b & 0xff) === plain[HEADER_LENGTH - 1]);
}

export class ZipCryptoDecipher extends Transform {
	private k0 = 0x12345678;
	private k1 = 0x23456789;
	private k2 = 0x34567890;
	private readonly header = Buffer.alloc(HEADER_LENGTH);
	private headerFilled = 0;
	private readonly checkBytes: number[];
	private readonly entryName: string;

	/**
	 * @param password the password bytes (UTF-8 for a JS string)
	 * @param checkByte what the header's last plaintext byte must be: the CRC-32's top byte, or
	 *   the DOS modification time's high byte when general-purpose bit 3 is set
	 */
	constructor(password: Buffer, checkByte: number, options: ZipCryptoDecipherOptions = {}) {
		super();
		this.entryName = options.entryName ?? 'entry';
		this.checkBytes = [checkByte & 0xff, ...(options.alternativeCheckBytes ?? []).map((b) => b & 0xff)];
		for (let i = 0; i < password.length; i++) this.updateKeys(password[i]);
	}

	private updateKeys(byte: number): void {
		this.k0 = CRC_TABLE[(this.k0 ^ byte) & 0xff] ^ (this.k0 >>> 8);
		this.k1 = (Math.imul((this.k1 + (this.k0 & 0xff)) | 0, 134775813) + 1) | 0;
		this.k2 = CRC_TABLE[(this.k2 ^ (this.k1 >>> 24)) & 0xff] ^ (this.k2 >>> 8);
	}

	/** @internal used by zipCryptoHeaderMatches */
	decryptHeaderForCheck(header: Buffer): void {
		this.decryptInto(header, 0, header, 0);
	}

	/** Decrypts `src[from..)` into `dst` at `dstOffset`, in one tight loop. */
	private decryptInto(src: Uint8Array, from: number, dst: Uint8Array, dstOffset: number): void {
		let k0 = this.k0;
		let k1 = this.k1;
		let k2 = this.k2;
		const table = CRC_TABLE;
		const n = src.length;
		let o = dstOffset;
		for (let i = from; i < n; i++) {
			const t = k2 | 2;
			const c = (src[i] ^ (Math.imul(t, t ^ 1) >>> 8)) & 0xff;
			dst[o++] = c;
			k0 = table[(k0 ^ c) & 0xff] ^ (k0 >>> 8);
			k1 = (Math.imul((k1 + (k0 & 0xff)) | 0, 134775813) + 1) | 0;
			k2 = table[(k2 ^ (k1 >>> 24)) & 0xff] ^ (k2 >>> 8);
		}
		this.k0 = k0;
		this.k1 = k1;
		this.k2 = k2;
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
		let from = 0;
		if (this.headerFilled < HEADER_LENGTH) {
			const take = Math.min(HEADER_LENGTH - this.headerFilled, chunk.length);
			chunk.copy(this.header, this.headerFilled, 0, take);
			this.headerFilled += take;
			from = take;
			if (this.headerFilled < HEADER_LENGTH) return callback();
			this.decryptInto(this.header, 0, this.header, 0);
			if (!this.checkBytes.includes(this.header[HEADER_LENGTH - 1])) {
				return callback(new ZipPasswordError(`The zip password is wrong (entry ${this.entryName})`));
			}
		}
		if (from >= chunk.length) return callback();
		const out = Buffer.allocUnsafe(chunk.length - from);
		this.decryptInto(chunk, from, out, 0);
		callback(null, out);
	}

	override _flush(callback: TransformCallback): void {
		if (this.headerFilled < HEADER_LENGTH) {
			return callback(
				new ZipIntegrityError(
					`Integrity check failed (encrypted data shorter than the 12-byte ZipCrypto header) for entry ${this.entryName}: the file is damaged`,
				),
			);
		}
		callback();
	}
}
