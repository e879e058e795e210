/*
 * Measures CSV parser candidates for the row reader (nodes/PingOneReports/lib/rows/csv.ts).
 *
 *   node --import tsx bench/parsers/csv.bench.ts [rows=1000000] [runs=3]
 *
 * Every candidate gets the same generated devices-like CSV as 64 KiB Buffer chunks and must
 * produce one object per row keyed by the header (rows are counted, then dropped). Speed is the
 * median of `runs`. Correctness: tricky inputs (quotes, "" escapes, embedded CRLF, CRLF/LF, BOM,
 * no final newline, a multi-byte character) fed in two chunks split at EVERY byte boundary.
 *
 * The candidates are dev dependencies (udsv, papaparse, csv-parse, csv-parser, @fast-csv/parse).
 */
import { StringDecoder } from 'node:string_decoder';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { parse as csvParse } from 'csv-parse';
import Papa from 'papaparse';
import csvParser from 'csv-parser';
import { parse as fastCsvParse } from '@fast-csv/parse';
import { inferSchema, initParser } from 'udsv';
import { CsvRowParser } from '../../nodes/PingOneReports/lib/rows/csv';
import type { Row } from '../../nodes/PingOneReports/lib/rows';

type Candidate = (chunks: Buffer[], onRow: (row: Row) => void) => Promise<void>;

const CHUNK = 64 * 1024;

function toChunks(buf: Buffer, size = CHUNK): Buffer[] {
	const out: Buffer[] = [];
	for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
	return out;
}

function sinkStream(onRow: (row: Row) => void): Writable {
	return new Writable({
		objectMode: true,
		highWaterMark: 1024,
		write(row: Row, _enc, cb) {
			onRow(row);
			cb();
		},
	});
}

const candidates: Record<string, Candidate> = {
	'hand-written (lib/rows/csv.ts)': async (chunks, onRow) => {
		const parser = new CsvRowParser({ add: (row) => onRow(row as Row), wantsMore: () => true });
		for (const c of chunks) parser.write(c);
		parser.end();
	},
	'udsv 0.7.3 (chunk + stringObjs)': async (chunks, onRow) => {
		const decoder = new StringDecoder('utf8');
		let parser: ReturnType<typeof initParser> | null = null;
		const cb = (row: Row) => {
			onRow(row);
			return true;
		};
		let pending = '';
		for (const c of chunks) {
			const text = decoder.write(c);
			if (parser === null) {
				pending += text;
				if (!/\r?\n/.test(pending)) continue;
				const schema = inferSchema(pending);
				schema.encl = '"';
				parser = initParser(schema);
				parser.chunk(pending, parser.stringObjs, cb as never);
			} else parser.chunk(text, parser.stringObjs, cb as never);
		}
		const rest = decoder.end();
		if (parser === null) {
			pending += rest;
			if (pending === '') return;
			const schema = inferSchema(pending + '\n');
			schema.encl = '"';
			parser = initParser(schema);
			parser.chunk(pending, parser.stringObjs, cb as never);
		} else if (rest) parser.chunk(rest, parser.stringObjs, cb as never);
		parser.end();
	},
	'papaparse 5.7.1 (NODE_STREAM_INPUT, header)': async (chunks, onRow) => {
		const stream = Papa.parse(Papa.NODE_STREAM_INPUT, { header: true, skipEmptyLines: true });
		await pipeline(Readable.from(chunks), stream, sinkStream(onRow));
	},
	'csv-parse 7.0.3 (columns: true)': async (chunks, onRow) => {
		await pipeline(Readable.from(chunks), csvParse({ columns: true, bom: true }), sinkStream(onRow));
	},
	'csv-parser 3.2.1': async (chunks, onRow) => {
		await pipeline(Readable.from(chunks), csvParser(), sinkStream(onRow));
	},
	'@fast-csv/parse 5.0.8 (headers: true)': async (chunks, onRow) => {
		await pipeline(Readable.from(chunks), fastCsvParse({ headers: true }), sinkStream(onRow));
	},
};

// ---------- correctness ----------
interface Case {
	name: string;
	input: string;
	rows: Row[];
}
const cases: Case[] = [
	{
		name: 'quotes, "" escapes, embedded CRLF and comma, CRLF lines',
		input: 'a,b,c\r\n1,"x, ""y""\r\nz",3\r\n"",  sp ,"q"\r\n',
		rows: [
			{ a: '1', b: 'x, "y"\r\nz', c: '3' },
			{ a: '', b: '  sp ', c: 'q' },
		],
	},
	{
		name: 'BOM, LF, no final newline, multi-byte',
		input: '\ufeffid,name\n1,Zoë “quoted”\n2,"日本,語"',
		rows: [
			{ id: '1', name: 'Zoë “quoted”' },
			{ id: '2', name: '日本,語' },
		],
	},
	{
		name: 'quoted header with newline, empty last field, quote at chunk edge',
		input: '"h\n1",h2\r\n"""",\r\n',
		rows: [{ 'h\n1': '"', h2: '' }],
	},
];

async function checkCase(candidate: Candidate, c: Case): Promise<string | null> {
	const buf = Buffer.from(c.input, 'utf8');
	const expected = JSON.stringify(c.rows);
	for (let split = 0; split <= buf.length; split++) {
		const chunks = [buf.subarray(0, split), buf.subarray(split)].filter((b) => b.length > 0);
		const rows: Row[] = [];
		try {
			await candidate(chunks, (r) => rows.push({ ...r }));
		} catch (error) {
			return `split ${split}: threw ${(error as Error).message}`;
		}
		const got = JSON.stringify(rows);
		if (got !== expected) return `split ${split}: got ${got}`;
	}
	return null;
}

// ---------- data ----------
function generate(rows: number): Buffer {
	const types = ['SMS', 'EMAIL', 'MOBILE', 'TOTP', 'FIDO2', 'VOICE'];
	const statuses = ['ACTIVE', 'ACTIVATION_REQUIRED', 'BLOCKED'];
	const parts: string[] = [
		'userId,username,email,phone,deviceType,deviceStatus,deviceId,mfaEnabled,createdAt,nickname\r\n',
	];
	const t0 = Date.UTC(2023, 0, 1);
	for (let i = 0; i < rows; i++) {
		const user = `user${i}`;
		let nickname = `device ${i % 97}`;
		if (i % 10 === 0) nickname = `"phone, ${i % 7} (work)"`;
		else if (i % 25 === 1) nickname = `"said ""hi""\r\nsecond line"`;
		parts.push(
			`${randomUUID()},${user},${user}@example.com,+1555${String(i % 10_000_000).padStart(7, '0')},${types[i % 6]},${statuses[i % 3]},${randomUUID()},${i % 2 === 0 ? 'true' : 'false'},${new Date(t0 + i * 1000).toISOString()},${nickname}\r\n`,
		);
	}
	return Buffer.from(parts.join(''), 'utf8');
}

async function main() {
	const nRows = Number(process.argv[2] ?? 1_000_000);
	const runs = Number(process.argv[3] ?? 3);
	console.log(`node ${process.version}, ${nRows} rows, ${runs} runs, 64 KiB chunks`);

	console.log('\ncorrectness (every split point of each tricky case):');
	for (const [name, candidate] of Object.entries(candidates)) {
		const failures: string[] = [];
		for (const c of cases) {
			const f = await checkCase(candidate, c);
			if (f) failures.push(`${c.name}: ${f}`);
		}
		console.log(`  ${name}: ${failures.length === 0 ? 'all correct' : `FAILED ${failures.length}/${cases.length}`}`);
		for (const f of failures) console.log(`      ${f.slice(0, 200)}`);
	}

	const data = generate(nRows);
	const chunks = toChunks(data);
	console.log(`\ndata: ${(data.length / 1e6).toFixed(1)} MB`);
	console.log('speed (median of runs):');
	const results: Array<[string, number]> = [];
	for (const [name, candidate] of Object.entries(candidates)) {
		const times: number[] = [];
		let count = 0;
		for (let r = 0; r < runs; r++) {
			count = 0;
			let last: Row | undefined;
			const t = process.hrtime.bigint();
			try {
				await candidate(chunks, (row) => {
					count++;
					last = row;
				});
			} catch (error) {
				console.log(`  ${name}: FAILED on the generated data after ${count} rows: ${(error as Error).message.split('\n')[0]}`);
				break;
			}
			times.push(Number(process.hrtime.bigint() - t) / 1e9);
			if (last === undefined && nRows > 0) throw new Error('no rows');
		}
		if (times.length < runs) continue;
		times.sort((a, b) => a - b);
		const median = times[Math.floor(times.length / 2)];
		results.push([name, nRows / median]);
		console.log(
			`  ${name}: ${Math.round(nRows / median).toLocaleString('en-US')} rows/s (${median.toFixed(2)} s; rows ${count})`,
		);
	}
	const base = results.find(([n]) => n.startsWith('csv-parse'))?.[1] ?? 1;
	console.log('\nrelative to csv-parse columns:true:');
	for (const [name, rps] of results) console.log(`  ${name}: ${(rps / base).toFixed(2)}x`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
