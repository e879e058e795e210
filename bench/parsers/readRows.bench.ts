/*
 * End-to-end readRows (keeping every row) on generated devices-like data, CSV and JSON,
 * against JSON.parse of the whole text as a reference point.
 *
 *   node --import tsx bench/parsers/readRows.bench.ts [rows=1000000]
 */
import { randomUUID } from 'node:crypto';
import { readRows } from '../../nodes/PingOneReports/lib/rows';

const n = Number(process.argv[2] ?? 1_000_000);
const CHUNK = 64 * 1024;

function record(i: number) {
	return {
		userId: randomUUID(),
		username: `user${i}`,
		email: `user${i}@example.com`,
		phone: `+1555${String(i).padStart(7, '0')}`,
		deviceType: ['SMS', 'EMAIL', 'MOBILE', 'TOTP'][i % 4],
		deviceStatus: ['ACTIVE', 'BLOCKED'][i % 2],
		deviceId: randomUUID(),
		mfaEnabled: i % 2 === 0 ? 'true' : 'false',
		createdAt: new Date(1_672_531_200_000 + i * 1000).toISOString(),
		nickname: i % 10 === 0 ? 'phone, "work"\nline 2' : `device ${i % 97}`,
	};
}

function csvCell(v: string) {
	return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

async function* chunks(buf: Buffer) {
	for (let i = 0; i < buf.length; i += CHUNK) yield buf.subarray(i, i + CHUNK);
}

async function time(label: string, fn: () => Promise<number>) {
	const t = process.hrtime.bigint();
	const rows = await fn();
	const s = Number(process.hrtime.bigint() - t) / 1e9;
	console.log(`  ${label}: ${Math.round(rows / s).toLocaleString('en-US')} rows/s (${s.toFixed(2)} s, ${rows} rows)`);
}

async function main() {
	const recs = Array.from({ length: n }, (_, i) => record(i));
	const header = Object.keys(recs[0]);
	const csv = Buffer.from(
		[header.join(','), ...recs.map((r) => header.map((h) => csvCell(r[h as keyof typeof r])).join(','))].join('\r\n') + '\r\n',
	);
	const json = Buffer.from(JSON.stringify(recs));
	const ndjson = Buffer.from(recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
	const wrapped = Buffer.from(JSON.stringify({ count: n, _embedded: { devices: recs } }));
	recs.length = 0;
	console.log(`node ${process.version}, ${n} rows; csv ${(csv.length / 1e6).toFixed(0)} MB, json ${(json.length / 1e6).toFixed(0)} MB`);
	for (let run = 0; run < 2; run++) {
		await time('readRows csv', async () => (await readRows(chunks(csv), 'csv')).rows.length);
		await time('readRows json array', async () => (await readRows(chunks(json), 'json')).rows.length);
		await time('readRows ndjson', async () => (await readRows(chunks(ndjson), 'json')).rows.length);
		await time('readRows json wrapper', async () => (await readRows(chunks(wrapped), 'json')).rows.length);
		await time('JSON.parse(whole text)', async () => (JSON.parse(json.toString('utf8')) as unknown[]).length);
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
