/** The stored bytes of a zip's single file entry (still encrypted / deflated), for stage benches. */
import * as yauzl from 'yauzl';

export interface StoredEntry {
	name: string;
	/** the entry's data as stored: encryption header + ciphertext (+ AES auth code), or deflate data */
	data: Buffer;
	compressionMethod: number;
	crc32: number;
	uncompressedSize: number;
	compressedSize: number;
	generalPurposeBitFlag: number;
	lastModFileTime: number;
	extraFields: Array<{ id: number; data: Buffer }>;
}

export function storedEntry(zip: Buffer, suffix: string): Promise<StoredEntry> {
	return new Promise((resolve, reject) => {
		yauzl.fromBuffer(zip, { lazyEntries: true, validateEntrySizes: false }, (err, zipfile) => {
			if (err) return reject(err);
			zipfile.on('entry', (entry: yauzl.Entry) => {
				if (!entry.fileName.endsWith(suffix)) return zipfile.readEntry();
				const local = entry.relativeOffsetOfLocalHeader;
				if (zip.readUInt32LE(local) !== 0x04034b50) return reject(new Error('bad local file header'));
				const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
				zipfile.close();
				resolve({
					name: entry.fileName,
					data: zip.subarray(start, start + entry.compressedSize),
					compressionMethod: entry.compressionMethod,
					crc32: entry.crc32,
					uncompressedSize: entry.uncompressedSize,
					compressedSize: entry.compressedSize,
					generalPurposeBitFlag: entry.generalPurposeBitFlag,
					lastModFileTime: entry.lastModFileTime,
					extraFields: entry.extraFields,
				});
			});
			zipfile.on('end', () => reject(new Error(`no entry ending in ${suffix}`)));
			zipfile.on('error', reject);
			zipfile.readEntry();
		});
	});
}

/** Yields `buf` in 64 KiB views (no copies), the way yauzl streams an entry out of a Buffer. */
export function* slices(buf: Buffer, size = 64 * 1024): Generator<Buffer> {
	for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, Math.min(i + size, buf.length));
}
