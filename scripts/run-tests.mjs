#!/usr/bin/env node
// Runs the test suites with node's own test runner (TypeScript through tsx).
//   node scripts/run-tests.mjs            all suites: unit, node (n8n's engine), e2e (a real n8n)
//   node scripts/run-tests.mjs unit node  only those suites
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'node', 'e2e'];
const files = [];
for (const suite of suites) {
	const dir = join(root, 'test', suite);
	if (!existsSync(dir)) continue;
	for (const name of readdirSync(dir).sort()) {
		if (name.endsWith('.test.ts')) files.push(join('test', suite, name));
	}
}
if (!files.length) {
	console.error(`no test files in ${suites.join(', ')}`);
	process.exit(1);
}
const result = spawnSync(
	process.execPath,
	['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
	{ cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
