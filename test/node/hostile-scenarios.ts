/**
 * Shared by hostile.test.ts and secrets.test.ts: the hostile-server scenarios, the node set-up
 * (loaded from dist/, as in pingone-reports.test.ts) and the check that logged waits were honoured.
 */
import assert from 'node:assert/strict';

import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { PingOneApi } from '../../credentials/PingOneApi.credentials';
import type { RequestLogEntry, Simulator, SimulatorFaults, SimulatorOptions } from '../simulator';
import { chain, harnessLogs, runWorkflow, type ChainNode, type RunResult } from './harness';

/**
 * The node as built into dist/ (run `npm run build` first): what n8n loads. Its source module
 * name ends in `.node`, which module resolution would match to the codex PingOneReports.node.json.
 */
export function loadNode(): typeof import('../../nodes/PingOneReports/PingOneReports.node') {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return require('../../dist/nodes/PingOneReports/PingOneReports.node.js');
}
const { PingOneReports } = loadNode();
export const TYPE = 'pingOneReports';

export const ROWS = 57;

export function credentialsFor(sim: Simulator, extra: IDataObject = {}) {
	return {
		pingOneApi: {
			region: 'custom',
			apiUrl: sim.apiUrl,
			authUrl: sim.authUrl,
			environmentId: sim.environmentId,
			authentication: 'accessToken',
			accessToken: 'sim-static-token',
			...extra,
		},
	};
}

export function node(name: string, parameters: IDataObject, extra: Partial<ChainNode> = {}): ChainNode {
	return {
		name,
		type: TYPE,
		parameters: { resource: 'report', ...parameters },
		credentials: { pingOneApi: { id: '1', name: 'PingOne' } },
		...extra,
	};
}

export const create = (parameters: IDataObject = {}) => node('Create', { operation: 'create', deliverAs: 'ASYNC_FILE', ...parameters });
export const wait = (options: IDataObject = {}) =>
	node('Wait', { operation: 'waitUntilReady', reportId: '={{ $json.id }}', options: { pollInterval: 1, timeout: 120, ...options } });
export const download = (parameters: IDataObject = {}, extra: Partial<ChainNode> = {}) =>
	node(
		'Download',
		{ operation: 'download', reportId: '={{ $json.id }}', format: 'csv', output: 'items', options: { pollInterval: 1 }, ...parameters },
		extra,
	);

export async function run(
	sim: Simulator,
	nodes: ChainNode[],
	inputItems?: INodeExecutionData[],
	credentialExtra: IDataObject = {},
): Promise<RunResult> {
	return await runWorkflow({
		nodeTypes: { [TYPE]: new PingOneReports() },
		credentialTypes: [new PingOneApi()],
		credentials: credentialsFor(sim, credentialExtra),
		workflow: chain(nodes),
		inputItems,
	});
}

export function json(result: RunResult, nodeName: string): IDataObject[] {
	return (result.outputs[nodeName]?.[0] ?? []).map((item) => item.json);
}

const RETRY_LINE = /^PingOne Reports: (.+) answered (\S+); retrying in ([\d.]+) s \(attempt (\d+)\)$/;

/** The waits the node logged since `mark`, in order. */
export function loggedWaits(mark: number): Array<{ what: string; cause: string; seconds: number; line: string }> {
	return harnessLogs
		.slice(mark)
		.map((l) => ({ l, m: RETRY_LINE.exec(l.message) }))
		.filter((x) => x.m !== null)
		.map(({ l, m }) => ({ what: m![1], cause: m![2], seconds: Number(m![3]), line: l.message }));
}

const ms = (e: RequestLogEntry) => Date.parse(e.at);

/**
 * Pairs each injected fault the transport retries (429, 503, dropped connection) with the wait the
 * node logged for it, in order, and checks that the next request to the same path came no earlier
 * than that wait after the faulted one (less 100 ms: the log rounds to 0.1 s, and timer/clock granularity).
 */
export function assertWaitsHonoured(sim: Simulator, mark: number, logFrom = 0): Array<{ fault: string; path: string; waited: number; gapMs: number }> {
	const faulted = sim.log.slice(logFrom).filter((e) => e.fault === 'tooManyRequests' || e.fault === 'unavailable' || e.fault === 'dropConnection');
	const waits = loggedWaits(mark);
	assert.equal(waits.length, faulted.length, `one logged wait per retried fault: ${JSON.stringify(waits.map((w) => w.line))} vs ${JSON.stringify(faulted)}`);
	const out: Array<{ fault: string; path: string; waited: number; gapMs: number }> = [];
	faulted
		.sort((a, b) => ms(a) - ms(b))
		.forEach((f, i) => {
			const expectedCause = f.fault === 'tooManyRequests' ? '429' : f.fault === 'unavailable' ? '503' : undefined;
			if (expectedCause) assert.equal(waits[i].cause, expectedCause, waits[i].line);
			else assert.match(waits[i].cause, /^E[A-Z_]+$|^UND_ERR|network/, waits[i].line);
			const next = sim.log.find((e) => e.method === f.method && e.path === f.path && ms(e) > ms(f) && e !== f);
			assert.ok(next, `the faulted ${f.method} ${f.path} was tried again`);
			const gap = ms(next) - ms(f);
			assert.ok(gap >= waits[i].seconds * 1000 - 100, `waited ${gap} ms after the ${f.fault} of ${f.method} ${f.path}; the node logged ${waits[i].seconds} s`);
			out.push({ fault: f.fault!, path: `${f.method} ${f.path.replace(/[0-9a-f-]{36}/g, '…')}`, waited: waits[i].seconds, gapMs: gap });
		});
	return out;
}

export interface Scenario {
	name: string;
	options?: SimulatorOptions;
	faults: SimulatorFaults;
	/** 'wait': Create → Wait → Download; 'direct': Create → Download (Download waits itself) */
	flow?: 'wait' | 'direct';
	/** extra checks on the request log */
	check?: (sim: Simulator, result: RunResult) => void;
}

const faultsOf = (sim: Simulator, fault: RequestLogEntry['fault']) => sim.log.filter((e) => e.fault === fault);

/** Hostile servers that a run must survive with every row. */
export const hostileScenarios: Scenario[] = [
	{
		name: 'two 429s on create (Retry-After: 1)',
		faults: { tooManyRequests: { count: 2, on: 'create', retryAfter: 1 } },
		check: (sim) => assert.deepEqual(sim.log.filter((e) => e.method === 'POST').map((e) => e.status), [429, 429, 201]),
	},
	{
		name: '429 on report GETs with Retry-After as an HTTP date',
		faults: { tooManyRequests: { count: 2, on: 'get', retryAfter: 1, retryAfterAs: 'http-date' } },
		check: (sim) => assert.equal(faultsOf(sim, 'tooManyRequests').length, 2),
	},
	{
		name: '429s on any API path',
		faults: { tooManyRequests: { count: 3, on: 'api', retryAfter: 1 } },
		check: (sim) => assert.equal(faultsOf(sim, 'tooManyRequests').length, 3),
	},
	{
		name: '503 with Retry-After on a report GET',
		faults: { unavailable: { count: 1, on: 'get', retryAfter: 2 } },
		check: (sim) => assert.deepEqual(faultsOf(sim, 'unavailable').map((e) => e.status), [503]),
	},
	{
		name: '503 (S3 SlowDown) on the download',
		faults: { unavailable: { count: 1, on: 'download', retryAfter: 1 } },
		check: (sim) => assert.deepEqual(sim.log.filter((e) => e.kind === 'download').map((e) => e.status), [503, 200]),
	},
	{
		name: 'a dropped connection on a report GET',
		faults: { dropConnections: { count: 1, on: 'get' } },
		check: (sim) => assert.deepEqual(faultsOf(sim, 'dropConnection').map((e) => e.status), [0]),
	},
	{
		name: 'a dropped connection on the download',
		faults: { dropConnections: { count: 1, on: 'download' } },
		check: (sim) => assert.deepEqual(sim.log.filter((e) => e.kind === 'download').map((e) => e.status), [0, 200]),
	},
	{
		name: 'an expired link (403 from the download host), fresh links fetched',
		faults: { expireDownloads: 1 },
		check: (sim) => {
			assert.deepEqual(sim.log.filter((e) => e.kind === 'download').map((e) => e.status), [403, 200]);
			assert.ok(harnessLogs.some((l) => /was refused \(403\); getting fresh links/.test(l.message)));
		},
	},
	{
		name: 'slow polls: three more IN_PROGRESS answers',
		faults: { slowPolls: 3 },
		check: (sim) => assert.equal(faultsOf(sim, 'slowPoll').length, 3),
	},
	{
		name: 'slow answers: two report GETs answered after 1.5 s',
		faults: { slowResponses: { count: 2, on: 'get', delayMs: 1500 } },
		check: (sim) => assert.equal(faultsOf(sim, 'slowResponse').length, 2),
	},
	{
		name: 'everything at once (429s, 503, dropped connections, expired link, slow polls), Download waiting by itself',
		flow: 'direct',
		faults: {
			tooManyRequests: { count: 1, on: 'create', retryAfter: 1 },
			unavailable: { count: 1, on: 'get', retryAfter: 1 },
			dropConnections: { count: 1, on: 'download' },
			expireDownloads: 1,
			slowPolls: 2,
		},
		check: (sim) => {
			for (const f of ['tooManyRequests', 'unavailable', 'dropConnection', 'expiredLink', 'slowPoll'] as const) {
				assert.ok(faultsOf(sim, f).length >= 1, `${f} was injected`);
			}
		},
	},
];

export async function runScenario(s: Scenario, sim: Simulator): Promise<RunResult> {
	Object.assign(sim.faults, structuredClone(s.faults));
	return await run(sim, s.flow === 'direct' ? [create(), download()] : [create(), wait(), download()]);
}

