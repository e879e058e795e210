/**
 * `npm run dev`: a real n8n editor with this package loaded, next to the PingOne simulator, with a
 * ready credential "PingOne (simulator)", the sample workflow and an owner account, so a newcomer
 * can log in and run the node in the browser. Also used by the browser test (browser.test.ts).
 *
 *   npm run dev                          editor on http://localhost:5678
 *   npm run dev -- --port 5679 --rows 50000
 *
 * The n8n user folder is fresh on every start and deleted on Ctrl-C: the simulator keeps its
 * reports in memory and listens on a new port each time, so an old folder would hold a credential
 * pointing at a simulator that no longer exists. Export a workflow you want to keep.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';

import { startSimulator, type Simulator } from '../simulator';
import { mainJobWorkflow, ROOT, simulatorCredential } from './main-job';
import { ensureN8n, startN8nServer, type N8nServer } from './n8n';

/** The owner account the dev editor is set up with (a local, throwaway instance). */
export const DEV_OWNER = {
	email: 'dev@example.com',
	password: 'PingOne-Dev-1',
	firstName: 'Dev',
	lastName: 'Owner',
} as const;

export const DEV_CREDENTIAL_NAME = 'PingOne (simulator)';
export const DEV_WORKFLOW_ID = 'pingOneMainJob1';

export interface DevEnvironmentOptions {
	/** The editor's port. Default 5678. */
	port?: number;
	/** Device rows in the simulated environment. Default 2,000. */
	rows?: number;
	n8nVersion?: string;
	log?: (line: string) => void;
}

export interface DevEnvironment {
	/** The editor, e.g. http://localhost:5678 */
	url: string;
	/** The sample workflow in the editor. */
	workflowUrl: string;
	login: { email: string; password: string };
	n8n: N8nServer;
	sim: Simulator;
	/** Stops n8n (its user folder is deleted) and the simulator. Safe to call twice. */
	stop(): Promise<void>;
}

export async function startDevEnvironment(options: DevEnvironmentOptions = {}): Promise<DevEnvironment> {
	const log = options.log ?? ((line: string) => console.error(line));
	const port = options.port ?? 5678;
	await assertPortFree(port);
	const install = await ensureN8n(options.n8nVersion);
	log(`n8n ${install.version} ready in ${install.dir}`);
	const sim = await startSimulator({
		rows: options.rows ?? 2000,
		zipEncryption: 'aes256',
		pollsBeforeSuccess: 2,
		createRateLimit: true, // as PingOne documents: one create per 5 s per environment
	});
	log(`PingOne simulator at ${sim.apiUrl} (environment ${sim.environmentId})`);
	let n8n: N8nServer;
	try {
		n8n = await startN8nServer({
			install,
			port,
			customExtensions: [join(ROOT, 'dist')],
			credentials: [{ ...simulatorCredential(sim), name: DEV_CREDENTIAL_NAME }],
			workflows: [mainJobWorkflow('csv')],
		});
	} catch (error) {
		await sim.close();
		throw error;
	}
	let stopped = false;
	const stop = async () => {
		if (stopped) return;
		stopped = true;
		await n8n.stop();
		await sim.close();
	};
	try {
		await setUpOwner(n8n.url);
		await checkImports(n8n.url);
	} catch (error) {
		const text = n8n.log();
		await stop();
		throw new Error(`${error instanceof Error ? error.message : String(error)}\n${text.slice(-3000)}`);
	}
	const url = `http://localhost:${port}`;
	return {
		url,
		workflowUrl: `${url}/workflow/${DEV_WORKFLOW_ID}`,
		login: { email: DEV_OWNER.email, password: DEV_OWNER.password },
		n8n,
		sim,
		stop,
	};
}

async function assertPortFree(port: number): Promise<void> {
	await new Promise<void>((resolve, reject) => {
		const srv = createServer();
		srv.once('error', () => reject(new Error(`port ${port} is in use (another n8n?); try --port ${port + 1}`)));
		srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
	});
}

/** n8n 2.x shows a sign-up form until an owner exists; create it the way that form does. */
async function setUpOwner(baseUrl: string): Promise<void> {
	const res = await fetch(`${baseUrl}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(DEV_OWNER),
		signal: AbortSignal.timeout(30_000),
	});
	if (!res.ok) throw new Error(`n8n owner setup failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
}

/** Logs in as the owner and checks that the sample workflow and the credential were imported. */
async function checkImports(baseUrl: string): Promise<void> {
	const login = await fetch(`${baseUrl}/rest/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ emailOrLdapLoginId: DEV_OWNER.email, password: DEV_OWNER.password }),
		signal: AbortSignal.timeout(30_000),
	});
	if (!login.ok) throw new Error(`n8n login failed: HTTP ${login.status}`);
	const cookie = (login.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
	const wf = await fetch(`${baseUrl}/rest/workflows/${DEV_WORKFLOW_ID}`, {
		headers: { cookie },
		signal: AbortSignal.timeout(30_000),
	});
	if (!wf.ok) throw new Error(`the sample workflow was not imported: HTTP ${wf.status}`);
	const creds = await fetch(`${baseUrl}/rest/credentials`, { headers: { cookie }, signal: AbortSignal.timeout(30_000) });
	const body = (await creds.json()) as { data?: Array<{ name: string }> };
	if (!body.data?.some((c) => c.name === DEV_CREDENTIAL_NAME)) {
		throw new Error(`the credential "${DEV_CREDENTIAL_NAME}" was not imported`);
	}
}

function arg(name: string): string | undefined {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
	const port = Number(arg('port') ?? '5678');
	const rows = Number(arg('rows') ?? '2000');
	if (!Number.isInteger(port) || port <= 0 || !Number.isInteger(rows) || rows < 0) {
		throw new Error('usage: npm run dev -- [--port 5678] [--rows 2000]');
	}
	const env = await startDevEnvironment({ port, rows });
	let stopping = false;
	const shutdown = (signal: string) => {
		if (stopping) return;
		stopping = true;
		console.log(`\n${signal}: stopping n8n and the simulator…`);
		env.stop().then(
			() => process.exit(0),
			(error: unknown) => {
				console.error(error);
				process.exit(1);
			},
		);
	};
	process.on('SIGINT', () => shutdown('SIGINT'));
	process.on('SIGTERM', () => shutdown('SIGTERM'));
	console.log(
		[
			'',
			`n8n editor:      ${env.url}`,
			`Log in with:     ${env.login.email} / ${env.login.password}`,
			`Sample workflow: ${env.workflowUrl}  (click "Execute workflow")`,
			`Credential:      "${DEV_CREDENTIAL_NAME}" → PingOne simulator at ${env.sim.apiUrl} (${rows} device rows)`,
			`n8n log:         ${join(env.n8n.userFolder, 'server.log')}`,
			'Press Ctrl-C to stop.',
			'',
		].join('\n'),
	);
}

if (require.main === module) {
	main().catch((error: unknown) => {
		console.error(error instanceof Error ? (error.stack ?? error.message) : error);
		process.exit(1);
	});
}
