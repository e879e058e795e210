// Writes a report's plaintext to a temp file (streamed, chunk by chunk) and zips it with the
// real 7-Zip binary, encrypted with the report's password. The password goes only into argv.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';

export type ZipEncryption = 'aes256' | 'zipcrypto';

export async function writeChunks(path: string, chunks: Iterable<string>): Promise<void> {
	const out = createWriteStream(path);
	try {
		for (const chunk of chunks) {
			if (!out.write(chunk, 'utf8')) await once(out, 'drain');
		}
		out.end();
		await once(out, 'finish');
	} catch (err) {
		out.destroy();
		throw err;
	}
}

function run7z(args: string[], cwd: string): Promise<void> {
	return new Promise((resolve, reject) => {
		execFile('7zz', args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
			if (err) {
				// never echo argv (it holds the password)
				const code = (err as NodeJS.ErrnoException).code ?? (err as { code?: number }).code;
				reject(new Error(`7zz failed (exit ${String(code)}): ${String(stderr).trim().slice(0, 500)}`));
			} else resolve();
		});
	});
}

/**
 * Creates `zipPath` holding one entry named `entryName`, produced from `chunks`.
 * Works inside `workDir` (created if needed); the plaintext file is removed afterwards.
 */
export async function makeEncryptedZip(opts: {
	workDir: string;
	entryName: string;
	chunks: Iterable<string>;
	password: string;
	encryption: ZipEncryption;
	zipPath: string;
}): Promise<void> {
	await mkdir(opts.workDir, { recursive: true });
	const plainPath = join(opts.workDir, opts.entryName);
	await writeChunks(plainPath, opts.chunks);
	try {
		await rm(opts.zipPath, { force: true });
		const method = opts.encryption === 'aes256' ? 'AES256' : 'ZipCrypto';
		// -mx=1: fast deflate (the content, not the ratio, matters here); -bso0/-bsp0: quiet
		await run7z(
			['a', '-tzip', '-bso0', '-bsp0', '-mx=1', `-mem=${method}`, `-p${opts.password}`, opts.zipPath, opts.entryName],
			opts.workDir,
		);
	} finally {
		await rm(plainPath, { force: true });
	}
}
