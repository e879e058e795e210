/**
 * WinZip AES (AE-1 / AE-2) as a Transform: stored entry data in
 * (salt + 2-byte password verifier + ciphertext + 10-byte authentication code), plaintext out.
 *
 * Keys: PBKDF2-HMAC-SHA1, 1000 iterations → encryption key ‖ authentication key ‖ verifier.
 * Cipher: AES-CTR with a 16-byte little-endian counter starting at 1 (Node's aes-*-ctr counts
 * big-endian), done as AES-ECB over counter blocks. The authentication code (first 10 bytes of
 * HMAC-SHA1 over the ciphertext) is checked at flush; until then the last 10 bytes are held back.
 */
import { createCipheriv, createHmac, pbkdf2, timingSafeEqual, type Cipher, type Hmac } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ZipIntegrityError, ZipPasswordError } from './errors';

export type AesStrength = 1 | 2 | 3;

const KEY_LENGTH: Record<AesStrength, number> = { 1: 16, 2: 24, 3: 32 };
const AUTH_CODE_LENGTH = 10;
const VERIFIER_LENGTH = 2;
/** Int32Array views write in platform byte order; the counter must be little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Keystream is made at most this many bytes at a time. */
const SLICE = 64 * 1024;

export interface WinZipAesDecipherOptions {
	entryName?: string;
	/**
	 * Keys already derived from this entry's salt (see deriveWinZipAesKeys), to save a second
	 * PBKDF2 run; the stored verifier is still compared with them.
	 */
	keys?: WinZipAesKeys;
}

export interface WinZipAesKeys {
	encryptionKey: Buffer;
	authenticationKey: Buffer;
	verifier: Buffer;
}

/** Salt length in bytes for a WinZip AES strength (8, 12, 16). */
export function winZipAesSaltLength(strength: AesStrength): number {
	return KEY_LENGTH[strength] / 2;
}

/** Derives the WinZip AES keys (async PBKDF2, off the main thread). */
export function deriveWinZipAesKeys(password: Buffer, salt: Buffer, strength: AesStrength): Promise<WinZipAesKeys> {
	const keyLength = KEY_LENGTH[strength];
	return new Promise((resolve, reject) => {
		pbkdf2(password, salt, 1000, 2 * keyLength + VERIFIER_LENGTH, 'sha1', (err, derived) => {
			if (err) return reject(err);
			resolve({
				encryptionKey: derived.subarray(0, keyLength),
				authenticationKey: derived.subarray(keyLength, 2 * keyLength),
				verifier: derived.subarray(2 * keyLength),
			});
		});
	});
}

export class WinZipAesDecipher extends Transform {
	private readonly password: Buffer;
	private readonly strength: AesStrength;
	private readonly saltLength: number;
	private readonly entryName: string;
	private readonly givenKeys: WinZipAesKeys | undefined;
	private head: Buffer;
	private headFilled = 0;
	private ecb: Cipher | undefined;
	private hmac: Hmac | undefined;
	/** Held-back bytes: the possible authentication code (always the stream's last ≤10 bytes). */
	private tail: Buffer = Buffer.alloc(0);
	/** Next counter value (1-based block number). */
	private counter = 1;
	/** Unused keystream of a partly consumed block. */
	private spare: Buffer = Buffer.alloc(0);
	/** Reused counter blocks (as 32-bit words; bytes 4..15 of each block stay zero below 2^31). */
	private counterWords: Int32Array | undefined;

	constructor(password: Buffer, strength: AesStrength, options: WinZipAesDecipherOptions = {}) {
		super();
		if (!(strength in KEY_LENGTH)) throw new RangeError(`Unknown WinZip AES strength ${String(strength)}`);
		this.password = password;
		this.strength = strength;
		this.saltLength = KEY_LENGTH[strength] / 2;
		this.entryName = options.entryName ?? 'entry';
		this.givenKeys = options.keys;
		this.head = Buffer.alloc(this.saltLength + VERIFIER_LENGTH);
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
		if (this.hmac) {
			this.accept(chunk);
			return callback();
		}
		const take = Math.min(this.head.length - this.headFilled, chunk.length);
		chunk.copy(this.head, this.headFilled, 0, take);
		this.headFilled += take;
		if (this.headFilled < this.head.length) return callback();
		const salt = this.head.subarray(0, this.saltLength);
		const verifier = this.head.subarray(this.saltLength);
		const keysReady = this.givenKeys
			? Promise.resolve(this.givenKeys)
			: deriveWinZipAesKeys(this.password, salt, this.strength);
		keysReady.then(
			(keys) => {
				if (!keys.verifier.equals(verifier)) {
					return callback(new ZipPasswordError(`The zip password is wrong (entry ${this.entryName})`));
				}
				const algorithm = `aes-${keys.encryptionKey.length * 8}-ecb`;
				const ecb = createCipheriv(algorithm, keys.encryptionKey, null);
				ecb.setAutoPadding(false);
				this.ecb = ecb;
				this.hmac = createHmac('sha1', keys.authenticationKey);
				try {
					if (take < chunk.length) this.accept(chunk.subarray(take));
				} catch (err) {
					return callback(err as Error);
				}
				callback();
			},
			(err: Error) => callback(err),
		);
	}

	/** Takes ciphertext (+ maybe the auth code); decrypts all but the last 10 bytes seen so far. */
	private accept(chunk: Buffer): void {
		if (chunk.length >= AUTH_CODE_LENGTH) {
			const body = chunk.subarray(0, chunk.length - AUTH_CODE_LENGTH);
			this.decrypt(this.tail, body);
			this.tail = Buffer.from(chunk.subarray(chunk.length - AUTH_CODE_LENGTH));
		} else {
			const joined = Buffer.concat([this.tail, chunk]);
			const cut = Math.max(0, joined.length - AUTH_CODE_LENGTH);
			this.decrypt(joined.subarray(0, cut));
			this.tail = joined.subarray(cut);
		}
	}

	/** Authenticates and decrypts the ciphertext a ‖ b, pushing plaintext. */
	private decrypt(a: Buffer, b?: Buffer): void {
		const total = a.length + (b ? b.length : 0);
		if (total === 0) return;
		this.hmac!.update(a);
		if (b) this.hmac!.update(b);
		if (total <= 2 * SLICE) {
			this.push(this.xorKeystream(a, b));
			return;
		}
		for (const piece of b ? [a, b] : [a]) {
			for (let start = 0; start < piece.length; start += SLICE) {
				this.push(this.xorKeystream(piece.subarray(start, Math.min(start + SLICE, piece.length))));
			}
		}
	}

	/** Returns (a ‖ b) XOR keystream, as a new Buffer. */
	private xorKeystream(a: Buffer, b?: Buffer): Buffer {
		const n = a.length + (b ? b.length : 0);
		// Up to 15 bytes of keystream may be left from the last block of the previous call.
		const done = Math.min(this.spare.length, n);
		// Copy the ciphertext (a memcpy; it is usually a slice of the zip at an odd offset) into a
		// fresh buffer placed so that out[done] is 4-byte aligned: the XOR then runs on 32-bit words.
		const pad = (4 - (done & 3)) & 3;
		const out = Buffer.from(new ArrayBuffer(n + pad), pad, n);
		a.copy(out);
		if (b) b.copy(out, a.length);
		for (let i = 0; i < done; i++) out[i] ^= this.spare[i];
		this.spare = this.spare.subarray(done);
		const rest = n - done;
		if (rest === 0) return out;
		const ks = this.ecb!.update(this.counterBlocks((rest + 15) >>> 4));
		xorInPlace(done === 0 ? out : out.subarray(done), ks, rest);
		if (ks.length > rest) this.spare = ks.subarray(rest);
		return out;
	}

	/** `blocks` little-endian counter blocks from the current counter on (reused buffer). */
	private counterBlocks(blocks: number): Uint8Array {
		const words = blocks * 4;
		if (!this.counterWords || this.counterWords.length < words) {
			this.counterWords = new Int32Array(Math.max(words, SLICE / 4 + 4));
		}
		const w = this.counterWords;
		let c = this.counter;
		if (!LITTLE_ENDIAN) {
			const view = new DataView(w.buffer);
			for (let off = 0; off < words * 4; off += 16, c++) {
				view.setUint32(off, c >>> 0, true);
				view.setUint32(off + 4, Math.floor(c / 0x100000000), true);
			}
		} else if (c + blocks <= 0x7fffffff) {
			// Bytes 4..15 stay zero below 2^31 blocks (32 GiB).
			for (let i = 0; i < words; i += 4) w[i] = c++;
		} else {
			for (let i = 0; i < words; i += 4, c++) {
				w[i] = c >>> 0;
				w[i + 1] = Math.floor(c / 0x100000000);
			}
		}
		this.counter = c;
		return new Uint8Array(w.buffer, 0, words * 4);
	}

	override _flush(callback: TransformCallback): void {
		if (!this.hmac) {
			return callback(
				new ZipIntegrityError(
					`Integrity check failed (encrypted data shorter than the WinZip AES salt and verifier) for entry ${this.entryName}: the file is damaged`,
				),
			);
		}
		if (this.tail.length < AUTH_CODE_LENGTH) {
			return callback(
				new ZipIntegrityError(
					`Integrity check failed (WinZip AES authentication code missing) for entry ${this.entryName}: the file is damaged`,
				),
			);
		}
		const expected = this.hmac.digest().subarray(0, AUTH_CODE_LENGTH);
		if (!timingSafeEqual(expected, this.tail)) {
			return callback(
				new ZipIntegrityError(
					`Integrity check failed (HMAC-SHA1 authentication code mismatch) for entry ${this.entryName}: the file is damaged or was altered`,
				),
			);
		}
		callback();
	}
}

/** out[i] ^= b[i] for i < n; 4 bytes at a time when both are 4-byte aligned. */
function xorInPlace(out: Uint8Array, b: Uint8Array, n: number): void {
	let i = 0;
	if (((out.byteOffset | b.byteOffset) & 3) === 0) {
		const words = n >>> 2;
		const o32 = new Int32Array(out.buffer, out.byteOffset, words);
		const b32 = new Int32Array(b.buffer, b.byteOffset, words);
		for (let w = 0; w < words; w++) o32[w] ^= b32[w];
		i = words << 2;
	}
	for (; i < n; i++) out[i] ^= b[i];
}
