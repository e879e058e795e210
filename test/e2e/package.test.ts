/**
 * The published shape: `npm pack` holds only dist, README.md, LICENSE and package.json, and that
 * tarball, installed into a fresh real n8n (2.40.x) as a community package (in the user folder's
 * `.n8n/nodes/node_modules`), runs the main job with the node type
 * `n8n-nodes-pingone-reports.pingOneReports` against the PingOne simulator.
 * Needs a build (`npm run build`) first; `npm test` / `npm run test:e2e` build.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startSimulator } from '../simulator';
import { mainJobWorkflow, NODE_TYPE, simulatorCredential } from './main-job';
import { ensureN8n, runN8nWorkflow, type N8nInstall } from './n8n';
import { COMMUNITY_NODE_TYPE, installCommunityPackage, packTarball, PACKAGE_NAME, ROOT, withNodeType, type InstallMethod, type PackedTarball } from './pack';

const ROWS = 2_000;

describe('the npm package', { timeout: 40 * 60_000 }, () => {
	const work = mkdtempSync(path.join(tmpdir(), 'pingone-pack-'));
	let packed: PackedTarball;
	let install: N8nInstall;

	before(async () => {
		assert.ok(existsSync(path.join(ROOT, 'dist', 'nodes', 'PingOneReports', 'PingOneReports.node.js')), 'dist/ is built (npm run build)');
		packed = await packTarball(path.join(work, 'pack'));
		install = await ensureN8n();
	});
	after(() => rmSync(work, { recursive: true, force: true }));

	test('npm pack holds only dist/**, README.md, LICENSE and package.json', () => {
		const outside = packed.entries.filter(
			(e) => !e.startsWith('package/dist/') && !['package/README.md', 'package/LICENSE', 'package/package.json'].includes(e),
		);
		assert.deepEqual(outside, []);
		for (const must of ['package/README.md', 'package/LICENSE', 'package/package.json']) {
			assert.ok(packed.entries.includes(must), `${must} is in the tarball`);
		}
		assert.ok(!packed.entries.includes('package/dist/package.json'), 'no stray copy of package.json under dist/');
		// every file n8n is told to load is there, and nothing of the sources or tests
		const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { n8n: { nodes: string[]; credentials: string[] } };
		for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials]) {
			assert.ok(packed.entries.includes(`package/${file}`), `package/${file} is in the tarball`);
		}
		assert.ok(packed.entries.some((e) => e.endsWith('.svg')), 'the icon is in the tarball');
		assert.deepEqual(packed.entries.filter((e) => e.endsWith('.ts') && !e.endsWith('.d.ts')), []);
		console.log(`# ${path.basename(packed.tarball)}: ${packed.entries.length} files`);
	});

	const methods: Array<[InstallMethod, string]> = [
		['n8n', "the way n8n's own community-package installer lays it out"],
		['npm', 'with `npm install --omit=peer <tarball>` in ~/.n8n/nodes (the manual install n8n documents)'],
	];
	for (const [method, how] of methods) {
		test(`installed ${how}, a real n8n runs the main job with node type ${COMMUNITY_NODE_TYPE}`, async () => {
			const userFolder = path.join(work, `user-${method}`);
			const packageDir = await installCommunityPackage(userFolder, packed.tarball, method);
			const installedPkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { name: string };
			assert.equal(installedPkg.name, PACKAGE_NAME);

			const sim = await startSimulator({ rows: ROWS, zipEncryption: 'aes256', pollsBeforeSuccess: 2 });
			try {
				const workflow = withNodeType(mainJobWorkflow('csv'), NODE_TYPE, COMMUNITY_NODE_TYPE);
				assert.equal(workflow.nodes.filter((n) => n.type === COMMUNITY_NODE_TYPE).length, 3);
				const run = await runN8nWorkflow({
					install,
					// no N8N_CUSTOM_EXTENSIONS: the node can only come from the installed package
					credentials: [simulatorCredential(sim, { clientId: 'sim-client', clientSecret: 'sim-secret' })],
					workflow,
					// n8n's user folder is the one the package was installed into (runN8nWorkflow keeps
					// its own temp folder for the import files and logs)
					env: { N8N_USER_FOLDER: userFolder },
					timeoutMs: 10 * 60_000,
				});
				assert.ok(run.ok, `the n8n run failed: ${run.error ?? ''}\n${run.stderr.slice(-3000)}`);
				for (const w of run.warnings) console.log(`# warning: ${w}`);
				const reportId = String(run.nodeOutput('Create Report')[0]?.id ?? '');
				const rows = run.nodeOutput('Download');
				console.log(`# ${method}: ${rows.length} rows in a ${(run.durationMs / 1000).toFixed(1)} s n8n run`);
				assert.equal(rows.length, ROWS);
				assert.deepEqual(rows, sim.expectedRows(reportId));
				assert.ok(sim.log.some((e) => e.kind === 'token'), 'the credential fetched a token (client credentials)');
				assert.ok(sim.log.filter((e) => e.kind === 'download').every((e) => e.authorization === 'none'));
			} finally {
				await sim.close();
			}
		});
	}
});
