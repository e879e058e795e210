// n8n's official lint rules for community nodes (@n8n/node-cli's eslint config), in the variant
// for packages that are not submitted to n8n Cloud (`configWithoutCloudSupport`).
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{
		// Tests, benchmarks and scripts are not shipped to n8n; the node rules do not apply there.
		ignores: ['test/**', 'bench/**', 'scripts/**', 'gulpfile.js', 'dist/**', 'eslint.config.mjs'],
	},
	{
		files: ['package.json'],
		rules: {
			// A self-hosted package with runtime dependencies: yauzl (zip reading) and luxon (link
			// expiry) are what this package is built on, installed with it into ~/.n8n/nodes.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
	{
		files: ['nodes/PingOneReports/lib/**/*.ts'],
		rules: {
			// The pure library knows nothing of n8n by design (it is tested without n8n and must not
			// import n8n-workflow). Its own error classes are mapped to NodeOperationError, with the
			// item index, in actions/ and transport/, where the rule still applies.
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
	{
		files: ['nodes/PingOneReports/credentialTest.ts'],
		rules: {
			// The credential's token fetch and the node's credential test run where n8n gives no node
			// (preAuthentication, ICredentialTestFunctions): NodeApiError needs one. Their errors become
			// the test's message, or a NodeApiError in transport/ when they happen during a run.
			'@n8n/community-nodes/require-node-api-error': 'off',
			// ICredentialTestFunctions offers only helpers.request in n8n 1.x and 2.x; httpRequest is
			// not there.
			'@n8n/community-nodes/no-deprecated-workflow-functions': 'off',
		},
	},
];
