/**
 * Secrets never leak: the hostile suite (every scenario of hostile.test.ts) and a set of failing
 * runs go through n8n's engine with known secrets — access tokens, a client secret (and its Basic
 * header), every zip password and presigned-link signature the simulator handed out, the STS token
 * in the links, and wrong passwords/tokens too. Then every error (message, description, every
 * string property, deep), every output item, the whole run data and every log line n8n and the
 * node wrote are searched for each secret: none may appear.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import type { IDataObject } from 'n8n-workflow';

import { startSimulator, type Simulator, type SimulatorFaults } from '../simulator';
import { harnessLogs, type RunResult } from './harness';
import { create, download, hostileScenarios, json, run, wait } from './hostile-scenarios';

const ACCESS_TOKEN = `AT-${randomBytes(18).toString('hex')}`;
const WRONG_TOKEN = `AT-wrong-${randomBytes(12).toString('hex')}`;
const CLIENT = { clientId: 'leak-test-client', clientSecret: `CS-${randomBytes(18).toString('base64url')}`, authMethod: 'basic' as const };
const WRONG_SECRET = `CS-wrong-${randomBytes(12).toString('hex')}`;

const clientCredentials = (secret = CLIENT.clientSecret): IDataObject => ({
	authentication: 'clientCredentials',
	clientId: CLIENT.clientId,
	clientSecret: secret,
	tokenEndpointAuthMethod: 'basic',
	accessToken: '',
});

/** Every string reachable from a value (own properties, deep, cycles cut), e.g. an error object. */
function strings(value: unknown, out: string[] = [], seen = new Set<unknown>(), depth = 0): string[] {
	if (typeof value === 'string') out.push(value);
	else if (typeof value === 'number' || typeof value === 'boolean' || value == null) return out;
	else if (Buffer.isBuffer(value)) out.push(value.toString('utf8'));
	else if (typeof value === 'object' && !seen.has(value) && depth < 12) {
		seen.add(value);
		if (value instanceof Error) out.push(value.message, value.stack ?? '');
		for (const key of Object.getOwnPropertyNames(value)) {
			let v: unknown;
			try {
				v = (value as Record<string, unknown>)[key];
			} catch {
				continue;
			}
			strings(v, out, seen, depth + 1);
		}
	}
	return out;
}

interface Collected {
	where: string;
	text: string;
}

function collect(label: string, result: RunResult, logMark: number): Collected[] {
	const out: Collected[] = [];
	if (result.error) out.push({ where: `${label}: run error`, text: strings(result.error).join('\n') });
	for (const [name, error] of Object.entries(result.nodeErrors)) out.push({ where: `${label}: error of ${name}`, text: strings(error).join('\n') });
	for (const [name, outputs] of Object.entries(result.outputs)) {
		out.push({ where: `${label}: output of ${name}`, text: strings(outputs).join('\n') });
	}
	out.push({ where: `${label}: run data`, text: strings(result.runData).join('\n') });
	for (const l of harnessLogs.slice(logMark)) out.push({ where: `${label}: log line`, text: `${l.message}\n${strings(l.metadata).join('\n')}` });
	return out;
}

function secretsOf(sim: Simulator): string[] {
	const basic = Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64');
	return [...new Set([...sim.issuedSecrets(), ACCESS_TOKEN, WRONG_TOKEN, CLIENT.clientSecret, WRONG_SECRET, basic, 'wrongwrong', 'stillwrong'])];
}

function leaks(collected: Collected[], secrets: string[]): string[] {
	const found: string[] = [];
	for (const c of collected) {
		for (const s of secrets) {
			// also the URL-encoded spelling (links carry the STS token percent-encoded)
			if (c.text.includes(s) || c.text.includes(encodeURIComponent(s))) {
				found.push(`${c.where} holds a secret (${s.slice(0, 4)}…): ${c.text.slice(Math.max(0, c.text.indexOf(s) - 80), c.text.indexOf(s) + 20).replace(/\s+/g, ' ')}`);
			}
		}
	}
	return found;
}

interface FailingRun {
	name: string;
	faults?: SimulatorFaults;
	credentials?: IDataObject;
	continueOnFail?: boolean;
	flow?: 'wait' | 'direct' | 'get404';
}

const failingRuns: FailingRun[] = [
	{ name: 'wrong zip password', faults: { wrongZipPassword: true } },
	{ name: 'wrong zip password, Continue On Fail', faults: { wrongZipPassword: true }, continueOnFail: true },
	{ name: 'damaged zip', faults: { corruptDownloads: 1 } },
	{ name: 'links refused twice (403 with S3 XML)', faults: { expireDownloads: 2 } },
	{ name: 'links refused twice, Continue On Fail', faults: { expireDownloads: 2 }, continueOnFail: true },
	{ name: 'download connections dropped every time', faults: { dropConnections: { count: 100, on: 'download' } } },
	{ name: 'download answered 503 every time', faults: { unavailable: { count: 100, on: 'download', retryAfter: 0 } } },
	{ name: 'report GETs answered 429 every time', faults: { tooManyRequests: { count: 100, on: 'get', retryAfter: 0 } } },
	{ name: 'a wrong access token (401)', credentials: { accessToken: WRONG_TOKEN } },
	{ name: 'a wrong client secret (token endpoint 401)', credentials: clientCredentials(WRONG_SECRET) },
	{ name: 'an unknown report (404), client credentials', credentials: clientCredentials(), flow: 'get404' },
];

describe('no secret in any error, description, output or log line', () => {
	test('the hostile suite and the failing runs leak nothing', { timeout: 15 * 60_000 }, async (t) => {
		const sim = await startSimulator({
			createRateLimit: false,
			pollsBeforeSuccess: 1,
			rows: 23,
			accessTokens: [ACCESS_TOKEN],
			clients: [CLIENT],
		});
		const collected: Collected[] = [];
		let runs = 0;
		try {
			// 1. the hostile scenarios, half with a pasted token, half with client credentials
			for (const [i, s] of hostileScenarios.entries()) {
				const mark = harnessLogs.length;
				Object.assign(sim.faults, structuredClone(s.faults));
				const credentials = i % 2 ? clientCredentials() : { accessToken: ACCESS_TOKEN };
				const result = await run(sim, s.flow === 'direct' ? [create(), download()] : [create(), wait(), download()], undefined, credentials);
				assert.equal(result.error, undefined, `${s.name}: ${String(result.error?.message)}`);
				assert.equal(json(result, 'Download').length, 23);
				collected.push(...collect(s.name, result, mark));
				runs++;
				for (const k of Object.keys(sim.faults)) delete (sim.faults as Record<string, unknown>)[k];
			}
			// 2. runs that fail
			for (const f of failingRuns) {
				const mark = harnessLogs.length;
				Object.assign(sim.faults, structuredClone(f.faults ?? {}));
				const credentials = f.credentials ?? { accessToken: ACCESS_TOKEN };
				const nodes =
					f.flow === 'get404'
						? [download({ reportId: 'no-such-report' }, f.continueOnFail ? { onError: 'continueRegularOutput' } : {})]
						: [create(), download({}, f.continueOnFail ? { onError: 'continueRegularOutput' } : {})];
				const result = await run(sim, nodes, undefined, credentials);
				const failed = result.error !== undefined || json(result, 'Download').some((r) => r.error !== undefined);
				assert.ok(failed, `${f.name}: the run was expected to fail`);
				collected.push(...collect(f.name, result, mark));
				runs++;
				for (const k of Object.keys(sim.faults)) delete (sim.faults as Record<string, unknown>)[k];
			}
			const secrets = secretsOf(sim);
			t.diagnostic(`${runs} runs; searched ${collected.length} texts (${collected.reduce((n, c) => n + c.text.length, 0)} characters) for ${secrets.length} secrets`);
			assert.ok(secrets.some((s) => /^CS-/.test(s)) && secrets.some((s) => /^AT-/.test(s)));
			assert.ok(secrets.length > 20, `${secrets.length} secrets (zip passwords and link signatures included)`);
			// sanity: the search finds a secret where one is
			assert.equal(leaks([{ where: 'probe', text: `x ${secrets[secrets.length - 1]} y` }], secrets).length, 1);
			const found = leaks(collected, secrets);
			assert.deepEqual(found, [], found.slice(0, 10).join('\n'));
		} finally {
			await sim.close();
		}
	});
});
