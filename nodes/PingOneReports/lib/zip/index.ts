/**
 * Encrypted-zip reader of the PingOne report files: ZipCrypto and WinZip AES (AE-1/AE-2),
 * stored or deflated, verified by CRC-32 / HMAC-SHA1 / size before the stream ends.
 */
export { ZipFormatError, ZipIntegrityError, ZipLimitError, ZipPasswordError } from './errors';
export {
	openReportEntry,
	DEFAULT_MAX_COMPRESSION_RATIO,
	DEFAULT_MAX_UNCOMPRESSED_BYTES,
	MAX_ENTRIES,
	type ReportEntry,
	type ReportEntryOptions,
	type ZipEncryption,
} from './reader';
export { ZipCryptoDecipher, zipCryptoHeaderMatches, type ZipCryptoDecipherOptions } from './zipCrypto';
export {
	WinZipAesDecipher,
	deriveWinZipAesKeys,
	winZipAesSaltLength,
	type AesStrength,
	type WinZipAesDecipherOptions,
	type WinZipAesKeys,
} from './winZipAes';
export { IntegrityCheck, SizeGuard, type IntegrityCheckOptions, type SizeGuardOptions } from './integrity';
