/**
 * The PingOne simulator as a child process (test/simulator/cli.ts), so that serving the zips
 * costs the measured process nothing (as with a real download host) and the simulator's own
 * memory is not counted in the bench's. Plus the few API calls the bench makes itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { DEVICES_TEMPLATE_ID, type FieldName } from '../../test/simulator/data';
import { REPO_ROOT } from './data';

export const SIM_TOKEN = 'sim-static-token';

export interface SimulatorProcess {
	baseUrl: string;
	apiUrl: string;
	authUrl: string;
	environmentId: string;
	child: ChildProcess;
	stop(): Promise<void>;
}

export async function startSimulatorProcess(options: {
	rows: number;
	seed: number;
	encryption: 'aes256' | 'zipcrypto';
}): Promise<SimulatorProcess> {
	const cli = path.join(REPO_ROOT, 'test', 'simulator', 'cli.ts');
	const child = spawn(
		process.execPath,
		[
			'--import',
			'tsx',
			cli,
			'--rows',
			String(options.rows),
			'--seed',
			String(options.seed),
			'--zip-encryption',
			options.encryption,
			'--no-create-rate-limit',
			'--polls-before-success',
			'0',
			'--report-ttl',
			'7200',
			'--link-ttl',
			'3600',
			'--stop-on-stdin-end',
		],
		{ cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
	);
	const info = await new Promise<{ baseUrl: string; apiUrl: string; authUrl: string; environmentId: string }>(
		(resolve, reject) => {
			let out = '';
			const onData = (chunk: Buffer) => {
				out += chunk.toString('utf8');
				const nl = out.indexOf('\n');
				if (nl >= 0) {
					child.stdout!.off('data', onData);
					try {
						resolve(JSON.parse(out.slice(0, nl)));
					} catch (e) {
						reject(e);
					}
				}
			};
			child.stdout!.on('data', onData);
			child.once('exit', (code) => reject(new Error(`the simulator exited early (${String(code)})`)));
			child.once('error', reject);
		},
	);
	child.stdout!.resume();
	let stopped = false;
	const stop = async () => {
		if (stopped || child.exitCode !== null) return;
		stopped = true;
		const gone = new Promise<void>((r) => child.once('exit', () => r()));
		child.kill('SIGTERM');
		const t = setTimeout(() => child.kill('SIGKILL'), 5000);
		await gone;
		clearTimeout(t);
	};
	return { ...info, child, stop };
}

async function api(sim: SimulatorProcess, method: string, p: string, body?: unknown): Promise<any> {
	const res = await fetch(`${sim.apiUrl}/environments/${sim.environmentId}${p}`, {
		method,
		headers: { authorization: `Bearer ${SIM_TOKEN}`, 'content-type': 'application/json', accept: 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const json = await res.json();
	if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
	return json;
}

/** Creates an ASYNC_FILE devices report and returns its id. */
export async function createReport(sim: SimulatorProcess, fields: FieldName[]): Promise<string> {
	const body = await api(sim, 'POST', '/dataExplorations', {
		dataExplorationTemplate: { id: DEVICES_TEMPLATE_ID },
		fields: fields.map((name) => ({ name })),
		deliverAs: 'ASYNC_FILE',
	});
	return String(body.id);
}

/** GET the report (SUCCESS at once: polls-before-success 0): password and fresh links. */
export async function getReport(sim: SimulatorProcess, id: string): Promise<{ zipPassword: string; csvPresignedUrl: string; jsonPresignedUrl: string; status: string }> {
	return await api(sim, 'GET', `/dataExplorations/${id}`);
}

/** Downloads one of the report's zips (the first request makes the simulator build it with 7zz). */
export async function downloadReportZip(sim: SimulatorProcess, id: string, format: 'csv' | 'json'): Promise<{ zip: Buffer; password: string }> {
	const report = await getReport(sim, id);
	if (report.status !== 'SUCCESS') throw new Error(`report ${id} is ${report.status}`);
	const url = format === 'csv' ? report.csvPresignedUrl : report.jsonPresignedUrl;
	const res = await fetch(url);
	if (!res.ok) throw new Error(`download ${format}: ${res.status}`);
	return { zip: Buffer.from(await res.arrayBuffer()), password: report.zipPassword };
}
