/**
 * The main job, end to end: a real n8n 2.x (installed once into a cache folder) loads the built
 * package and runs "Manual Trigger → Create → Wait Until Ready → Download" against the PingOne
 * simulator. Used by `npm run demo` (demo.ts) and by the end-to-end test (main-job.test.ts).
 */
import { join } from 'node:path';

import { startSimulator, type RequestLogEntry, type SimulatorOptions } from '../simulator';
import { ensureN8n, runN8nWorkflow, type N8nCredential, type N8nRunResult } from './n8n';

export const ROOT = join(__dirname, '..', '..');
export const NODE_TYPE = 'CUSTOM.pingOneReports';

export interface MainJobOptions {
	rows?: number;
	format?: 'csv' | 'json';
	simulator?: SimulatorOptions;
	/** The credential's data; defaults to a pasted access token for the simulator. */
	credentialData?: (sim: { apiUrl: string; authUrl: string; environmentId: string }) => Record<string, unknown>;
	n8nVersion?: string;
	log?: (line: string) => void;
}

export interface MainJobResult {
	run: N8nRunResult;
	rows: Record<string, unknown>[];
	expectedRows: Record<string, string>[];
	reportId: string;
	requestLog: RequestLogEntry[];
}

export interface WorkerApp {
	clientId: string;
	clientSecret: string;
	method?: 'basic' | 'post';
}

/**
 * The credential "PingOne (simulator)" in n8n's import format: the simulator's custom URLs and
 * either its static pasted token (default) or a worker app's client credentials.
 */
export function simulatorCredential(
	sim: { apiUrl: string; authUrl: string; environmentId: string },
	app?: WorkerApp,
): N8nCredential {
	const hosts = { region: 'custom', apiUrl: sim.apiUrl, authUrl: sim.authUrl, environmentId: sim.environmentId };
	const auth = app
		? {
				authentication: 'clientCredentials',
				clientId: app.clientId,
				clientSecret: app.clientSecret,
				tokenEndpointAuthMethod: app.method ?? 'basic',
			}
		: { authentication: 'accessToken', accessToken: 'sim-static-token' };
	return { id: 'pingone-sim', name: 'PingOne (simulator)', type: 'pingOneApi', data: { ...hosts, ...auth } };
}

export function mainJobWorkflow(format: 'csv' | 'json' = 'csv') {
	const credentials = { pingOneApi: { id: 'pingone-sim', name: 'PingOne (simulator)' } };
	return {
		id: 'pingOneMainJob1',
		name: 'PingOne devices report to items',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: 'a1',
				name: 'When clicking ‘Execute workflow’',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'a2',
				name: 'Create Report',
				type: NODE_TYPE,
				typeVersion: 1,
				position: [220, 0],
				parameters: {
					resource: 'report',
					operation: 'create',
					fields: ['userId', 'username', 'phone', 'deviceType', 'deviceStatus', 'deviceId'],
					filter: '',
					deliverAs: 'ASYNC_FILE',
				},
				credentials,
			},
			{
				id: 'a3',
				name: 'Wait Until Ready',
				type: NODE_TYPE,
				typeVersion: 1,
				position: [440, 0],
				parameters: {
					resource: 'report',
					operation: 'waitUntilReady',
					reportId: '={{ $json.id }}',
					options: { pollInterval: 1, timeout: 120 },
				},
				credentials,
			},
			{
				id: 'a4',
				name: 'Download',
				type: NODE_TYPE,
				typeVersion: 1,
				position: [660, 0],
				parameters: {
					resource: 'report',
					operation: 'download',
					reportId: '={{ $json.id }}',
					format,
					output: 'items',
					options: {},
				},
				credentials,
			},
		],
		connections: {
			'When clicking ‘Execute workflow’': { main: [[{ node: 'Create Report', type: 'main', index: 0 }]] },
			'Create Report': { main: [[{ node: 'Wait Until Ready', type: 'main', index: 0 }]] },
			'Wait Until Ready': { main: [[{ node: 'Download', type: 'main', index: 0 }]] },
		},
	};
}

export async function runMainJob(options: MainJobOptions = {}): Promise<MainJobResult> {
	const log = options.log ?? ((line: string) => console.error(line));
	const format = options.format ?? 'csv';
	const install = await ensureN8n(options.n8nVersion);
	log(`n8n ${install.version} ready in ${install.dir}`);
	const sim = await startSimulator({
		rows: options.rows ?? 10_000,
		zipEncryption: 'aes256',
		pollsBeforeSuccess: 2,
		...options.simulator,
	});
	try {
		log(`PingOne simulator at ${sim.apiUrl} (environment ${sim.environmentId})`);
		const credential = simulatorCredential(sim);
		if (options.credentialData) credential.data = options.credentialData(sim);
		const run = await runN8nWorkflow({
			install,
			customExtensions: [join(ROOT, 'dist')],
			credentials: [credential],
			workflow: mainJobWorkflow(format),
			timeoutMs: 10 * 60_000,
		});
		if (!run.ok) {
			throw new Error(`The n8n run failed: ${run.error ?? 'unknown error'}\n${run.stderr.slice(-4000)}`);
		}
		const created = run.nodeOutput('Create Report');
		const reportId = String(created[0]?.id ?? '');
		const rows = run.nodeOutput('Download') as Record<string, unknown>[];
		return { run, rows, expectedRows: sim.expectedRows(reportId), reportId, requestLog: [...sim.log] };
	} finally {
		await sim.close();
	}
}
