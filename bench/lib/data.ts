/**
 * The bench's input data, generated deterministically and cached outside the repository:
 * the plaintext devices report (CSV and JSON, exactly as the simulator writes it: same rows,
 * same serialisation code) and the same files zipped WITHOUT encryption by 7zz with the
 * simulator's settings (-mx=1), whose raw deflate data is the floor's input.
 *
 * Cache folder: $PINGONE_BENCH_CACHE, else ~/.cache/n8n-nodes-pingone-reports/bench/<key>, where
 * key hashes the row count, seed, fields and the simulator's data generator source (so a change
 * to the generator makes new data instead of comparing against stale files).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

import { csvChunks, jsonChunks, type FieldName } from '../../test/simulator/data';
import { writeChunks } from '../../test/simulator/zip';

export const REPO_ROOT = path.join(__dirname, '..', '..');

export interface BenchDataOptions {
	rows: number;
	seed: number;
	fields: FieldName[];
}

export interface BenchData {
	dir: string;
	csvPath: string;
	jsonPath: string;
	/** unencrypted zips made by 7zz -mx=1 of the two files (entry devices-report.csv / .json) */
	plainZipPath: { csv: string; json: string };
	/** seconds spent generating (0 when cached) */
	generatedSeconds: number;
}

export function cacheRoot(): string {
	return (
		process.env.PINGONE_BENCH_CACHE ??
		path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'n8n-nodes-pingone-reports', 'bench')
	);
}

export async function ensureBenchData(options: BenchDataOptions, log: (s: string) => void): Promise<BenchData> {
	const generator = readFileSync(path.join(REPO_ROOT, 'test', 'simulator', 'data.ts'));
	const key = createHash('sha256')
		.update(JSON.stringify({ rows: options.rows, seed: options.seed, fields: options.fields, mx: 1 }))
		.update(generator)
		.digest('hex')
		.slice(0, 16);
	const dir = path.join(cacheRoot(), `devices-${options.rows}-${key}`);
	const data: BenchData = {
		dir,
		csvPath: path.join(dir, 'devices-report.csv'),
		jsonPath: path.join(dir, 'devices-report.json'),
		plainZipPath: { csv: path.join(dir, 'plain-csv.zip'), json: path.join(dir, 'plain-json.zip') },
		generatedSeconds: 0,
	};
	if (existsSync(path.join(dir, '.ready'))) return data;

	const started = Date.now();
	log(`generating ${options.rows.toLocaleString('en-US')}-row report data into ${dir} (cached for later runs)`);
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	const shape = { seed: options.seed, population: options.rows, fields: options.fields, filter: undefined };
	await writeChunks(data.csvPath, csvChunks(shape));
	await writeChunks(data.jsonPath, jsonChunks(shape));
	for (const format of ['csv', 'json'] as const) {
		const entry = `devices-report.${format}`;
		const tmp = `${data.plainZipPath[format]}.tmp.zip`;
		execFileSync('7zz', ['a', '-tzip', '-bso0', '-bsp0', '-mx=1', tmp, entry], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
		renameSync(tmp, data.plainZipPath[format]);
	}
	writeFileSync(
		path.join(dir, 'meta.json'),
		JSON.stringify(
			{
				...options,
				csvBytes: statSync(data.csvPath).size,
				jsonBytes: statSync(data.jsonPath).size,
				createdAt: new Date().toISOString(),
			},
			null,
			2,
		),
	);
	writeFileSync(path.join(dir, '.ready'), '');
	data.generatedSeconds = (Date.now() - started) / 1000;
	return data;
}
