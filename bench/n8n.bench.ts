/*
 * `npm run bench:n8n`: in a real n8n (2.40.x, installed once by scripts/install-n8n.sh), how long
 * our Download takes to turn a 200,000-row report into items, against n8n's own way of getting
 * the same rows from a CSV file: Read/Write Files from Disk → Extract From File (CSV).
 *
 *   npm run bench:n8n                                  # 200,000 rows, AES-256, 3 runs each
 *   npm run bench:n8n -- --rows 50000 --reps 1 --encryption zipcrypto
 *
 * Times come from n8n's own run data (`n8n execute --rawOutput`): each node's executionTime and
 * the execution's startedAt/stoppedAt, never the process start-up. Ours: the Download node
 * (get the report, download the zip, decrypt, inflate, verify, parse, items). Theirs: Read File
 * + Extract From File, reading the plaintext CSV the zip holds, written to a temp file. Both
 * outputs are checked against the plaintext (row count and a checksum over the rows).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';

import { parse as csvParse } from 'csv-parse';

import type { FieldName } from '../test/simulator/data';
import { ensureN8n, runN8nWorkflow, type N8nInstall, type N8nRunResult } from '../test/e2e/n8n';
import { rowsChecksum, type RowsChecksum } from './lib/checksum';
import { ensureBenchData, REPO_ROOT } from './lib/data';
import { createReport, downloadReportZip, startSimulatorProcess, SIM_TOKEN, type SimulatorProcess } from './lib/simulator';
import { fmtInt, fmtS, summarize, table } from './lib/stats';
import { slices } from './lib/zipEntry';

const FIELDS: FieldName[] = ['userId', 'username', 'phone', 'deviceType', 'deviceStatus', 'deviceId'];
const NODE_TYPE = 'CUSTOM.pingOneReports';

const { values: args } = parseArgs({
	options: {
		rows: { type: 'string', default: '200000' },
		reps: { type: 'string', default: '3' },
		seed: { type: 'string', default: '7' },
		encryption: { type: 'string', default: 'aes256' },
	},
});
const ROWS = Number(args.rows);
const REPS = Number(args.reps);
const SEED = Number(args.seed);
const ENCRYPTION = args.encryption === 'zipcrypto' ? 'zipcrypto' : 'aes256';
const log = (s: string) => process.stderr.write(`${s}\n`);

const trigger = {
	id: 't1',
	name: 'Start',
	type: 'n8n-nodes-base.manualTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

function oursWorkflow(reportId: string) {
	return {
		id: 'benchOursDownload1',
		name: 'Bench: PingOne Download',
		settings: { executionOrder: 'v1' },
		nodes: [
			trigger,
			{
				id: 'o1',
				name: 'PingOne Download',
				type: NODE_TYPE,
				typeVersion: 1,
				position: [220, 0],
				parameters: {
					resource: 'report',
					operation: 'download',
					reportId,
					format: 'csv',
					output: 'items',
					options: { waitUntilReady: false },
				},
				credentials: { pingOneApi: { id: 'pingone-sim', name: 'PingOne (simulator)' } },
			},
		],
		connections: { Start: { main: [[{ node: 'PingOne Download', type: 'main', index: 0 }]] } },
	};
}

function theirsWorkflow(csvPath: string) {
	return {
		id: 'benchTheirsExtract1',
		name: 'Bench: Read File + Extract From File',
		settings: { executionOrder: 'v1' },
		nodes: [
			trigger,
			{
				id: 'r1',
				name: 'Read File',
				type: 'n8n-nodes-base.readWriteFile',
				typeVersion: 1.1,
				position: [220, 0],
				parameters: { operation: 'read', fileSelector: csvPath, options: {} },
			},
			{
				id: 'x1',
				name: 'Extract From File',
				type: 'n8n-nodes-base.extractFromFile',
				typeVersion: 1.1,
				position: [440, 0],
				// includeEmptyCells: keep '' values, as our node does, so both output the same rows
				parameters: { operation: 'csv', binaryPropertyName: 'data', options: { includeEmptyCells: true } },
			},
		],
		connections: {
			Start: { main: [[{ node: 'Read File', type: 'main', index: 0 }]] },
			'Read File': { main: [[{ node: 'Extract From File', type: 'main', index: 0 }]] },
		},
	};
}

interface Timing {
	/** the measured nodes' executionTime, summed (ms) */
	nodesMs: number;
	/** execution stoppedAt − startedAt (ms): includes the trigger and the engine between nodes */
	executionMs: number;
	perNode: Record<string, number>;
	rows: number;
	checksum: RowsChecksum;
	/** wall time of `n8n execute` (start-up and printing included), for information only */
	processMs: number;
}

function timingOf(run: N8nRunResult, nodes: string[], outputNode: string): Timing {
	const runData = run.runData?.data?.resultData?.runData ?? {};
	const perNode: Record<string, number> = {};
	for (const name of nodes) {
		const task = runData[name]?.[0];
		if (!task) throw new Error(`node ${name} did not run`);
		perNode[name] = Number(task.executionTime);
	}
	const rows = run.nodeOutput(outputNode) as Record<string, unknown>[];
	return {
		nodesMs: Object.values(perNode).reduce((a, b) => a + b, 0),
		executionMs: Date.parse(run.runData.stoppedAt) - Date.parse(run.runData.startedAt),
		perNode,
		rows: rows.length,
		checksum: rowsChecksum(rows),
		processMs: run.durationMs,
	};
}

async function main(): Promise<void> {
	if (!existsSync(path.join(REPO_ROOT, 'dist', 'nodes', 'PingOneReports', 'PingOneReports.node.js'))) {
		throw new Error('dist/ is missing: run npm run build first (npm run bench:n8n does)');
	}
	const install: N8nInstall = await ensureN8n();
	log(`n8n ${install.version} (${install.dir}), node for n8n: ${install.nodeBin}`);

	const data = await ensureBenchData({ rows: ROWS, seed: SEED, fields: FIELDS }, log);
	// The plaintext CSV, written to a temp folder that n8n may read (N8N_RESTRICT_FILE_ACCESS_TO).
	const fileDir = mkdtempSync(path.join(os.tmpdir(), 'pingone-bench-files-'));
	const csvPath = path.join(fileDir, 'devices-report.csv');
	copyFileSync(data.csvPath, csvPath);

	log('expected rows: csv-parse over the plaintext …');
	const expected = await new Promise<RowsChecksum>((resolve, reject) => {
		const rows: Record<string, string>[] = [];
		const parser = csvParse({ columns: true });
		parser.on('data', (r: Record<string, string>) => rows.push(r));
		parser.once('end', () => resolve(rowsChecksum(rows)));
		parser.once('error', reject);
		Readable.from(slices(readFileSync(csvPath))).pipe(parser);
	});

	let sim: SimulatorProcess | undefined;
	const results: { ours: Timing[]; theirs: Timing[] } = { ours: [], theirs: [] };
	const errors: string[] = [];
	try {
		sim = await startSimulatorProcess({ rows: ROWS, seed: SEED, encryption: ENCRYPTION });
		const reportId = await createReport(sim, FIELDS);
		const { zip } = await downloadReportZip(sim, reportId, 'csv'); // makes the simulator build the zip now
		log(`simulator ${sim.apiUrl}: report ${reportId}, ${ENCRYPTION} zip of ${(zip.length / 1048576).toFixed(1)} MiB ready`);

		const credentials = [
			{
				id: 'pingone-sim',
				name: 'PingOne (simulator)',
				type: 'pingOneApi',
				data: {
					region: 'custom',
					apiUrl: sim.apiUrl,
					authUrl: sim.authUrl,
					environmentId: sim.environmentId,
					authentication: 'accessToken',
					accessToken: SIM_TOKEN,
				},
			},
		];
		const env = { N8N_RESTRICT_FILE_ACCESS_TO: fileDir };
		const runOurs = async () => {
			const run = await runN8nWorkflow({
				install,
				customExtensions: [path.join(REPO_ROOT, 'dist')],
				credentials,
				workflow: oursWorkflow(reportId),
				env,
			});
			if (!run.ok) throw new Error(`our workflow failed: ${run.error}\n${run.stderr.slice(-2000)}`);
			return timingOf(run, ['PingOne Download'], 'PingOne Download');
		};
		const runTheirs = async () => {
			const run = await runN8nWorkflow({ install, workflow: theirsWorkflow(csvPath), env });
			if (!run.ok) throw new Error(`n8n's workflow failed: ${run.error}\n${run.stderr.slice(-2000)}`);
			return timingOf(run, ['Read File', 'Extract From File'], 'Extract From File');
		};
		for (let rep = 0; rep < REPS; rep++) {
			// alternate the order, so that drift on a shared machine hits both alike
			const order = rep % 2 === 0 ? (['ours', 'theirs'] as const) : (['theirs', 'ours'] as const);
			for (const which of order) {
				const t = which === 'ours' ? await runOurs() : await runTheirs();
				results[which].push(t);
				const ok = t.rows === expected.rows && t.checksum.sha256 === expected.sha256;
				if (!ok) errors.push(`${which} run ${rep + 1}: ${t.rows} rows, checksum ${t.checksum.sha256 === expected.sha256 ? 'ok' : 'differs'} (expected ${expected.rows} rows)`);
				log(
					`  ${which.padEnd(6)} run ${rep + 1}/${REPS}: nodes ${fmtS(t.nodesMs)} (${Object.entries(t.perNode).map(([k, v]) => `${k} ${fmtS(v)}`).join(', ')}), ` +
						`execution ${fmtS(t.executionMs)}, n8n process ${fmtS(t.processMs)}, ${fmtInt(t.rows)} rows ${ok ? 'ok' : 'WRONG'}`,
				);
			}
		}
	} finally {
		await sim?.stop();
		rmSync(fileDir, { recursive: true, force: true });
	}

	const ours = summarize(results.ours.map((t) => t.nodesMs));
	const theirs = summarize(results.theirs.map((t) => t.nodesMs));
	const oursExec = summarize(results.ours.map((t) => t.executionMs));
	const theirsExec = summarize(results.theirs.map((t) => t.executionMs));
	const ratio = ours.median / theirs.median;
	const ratioExec = oursExec.median / theirsExec.median;
	const out = (s = '') => process.stdout.write(`${s}\n`);
	out(`\nReal n8n ${install.version}: ${fmtInt(ROWS)} rows (${FIELDS.length} columns), ${ENCRYPTION === 'aes256' ? 'AES-256' : 'ZipCrypto'} zip; median [min – max] of ${REPS} run(s) each, from n8n's run data`);
	out(
		table(
			['workflow', 'nodes executionTime', 'execution (startedAt→stoppedAt)', 'rows/s (nodes)'],
			[
				['ours: PingOne Download (download + decrypt + inflate + verify + parse)', `${fmtS(ours.median)} [${fmtS(ours.min)} – ${fmtS(ours.max)}]`, `${fmtS(oursExec.median)} [${fmtS(oursExec.min)} – ${fmtS(oursExec.max)}]`, fmtInt(ROWS / (ours.median / 1000))],
				["n8n's: Read File + Extract From File (CSV, plaintext)", `${fmtS(theirs.median)} [${fmtS(theirs.min)} – ${fmtS(theirs.max)}]`, `${fmtS(theirsExec.median)} [${fmtS(theirsExec.min)} – ${fmtS(theirsExec.max)}]`, fmtInt(ROWS / (theirs.median / 1000))],
			],
			[false, true, true, true],
		),
	);
	out(`\nratio ours / theirs: ${ratio.toFixed(2)} (node times), ${ratioExec.toFixed(2)} (whole executions); goal ≤ 0.50 → ${ratio <= 0.5 ? 'PASS' : 'MISS'}`);

	const resultsDir = path.join(REPO_ROOT, 'bench', 'results');
	mkdirSync(resultsDir, { recursive: true });
	const doc = {
		bench: 'n8n',
		at: new Date().toISOString(),
		n8n: install.version,
		rows: ROWS,
		encryption: ENCRYPTION,
		fields: FIELDS,
		expected,
		ours: results.ours,
		theirs: results.theirs,
		summary: { ours, theirs, oursExec, theirsExec, ratio, ratioExec },
		errors,
	};
	const file = path.join(resultsDir, `n8n-${ROWS}-${doc.at.replace(/[:.]/g, '-')}.json`);
	writeFileSync(file, JSON.stringify(doc, null, 2));
	writeFileSync(path.join(resultsDir, `n8n-${ROWS}-latest.json`), JSON.stringify(doc, null, 2));
	out(`results: ${path.relative(REPO_ROOT, file)}`);
	if (errors.length) {
		for (const e of errors) log(`WRONG: ${e}`);
		process.exitCode = 1;
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
