/**
 * Error classes of the zip reader. Messages name the entry and the failed check, never the
 * password.
 */

/** The password does not open the entry (the verifier or check byte says so). */
export class ZipPasswordError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ZipPasswordError';
	}
}

/**
 * A check on the decoded bytes failed: CRC-32, size, HMAC-SHA1 or the deflate data itself.
 * `possiblyWrongPassword` is true when a wrong password cannot be ruled out (ZipCrypto's check
 * byte lets about 1 wrong password in 256 through; the message then says so).
 */
export class ZipIntegrityError extends Error {
	readonly possiblyWrongPassword: boolean;
	constructor(message: string, possiblyWrongPassword = false) {
		super(message);
		this.name = 'ZipIntegrityError';
		this.possiblyWrongPassword = possiblyWrongPassword;
	}
}

/** Not a zip, an unusable layout, an unsupported method, or a size/ratio limit. */
export class ZipFormatError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ZipFormatError';
	}
}

/** The entry unzips to more than the size limit, or more than the ratio limit times its zipped size. */
export class ZipLimitError extends ZipFormatError {
	readonly limit: 'size' | 'ratio';
	constructor(message: string, limit: 'size' | 'ratio') {
		super(message);
		this.name = 'ZipLimitError';
		this.limit = limit;
	}
}

/** Standard phrase for integrity failures; keeps every message the same shape. */
export function integrityMessage(check: string, entryName: string, possiblyWrongPassword: boolean): string {
	return possiblyWrongPassword
		? `The zip password is wrong or the file is damaged: integrity check failed (${check}) for entry ${entryName}`
		: `Integrity check failed (${check}) for entry ${entryName}: the file is damaged`;
}
