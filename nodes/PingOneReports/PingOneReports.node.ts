import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as create from './actions/create.operation';
import * as download from './actions/download.operation';
import * as get from './actions/get.operation';
import * as getEntries from './actions/getEntries.operation';
import { router } from './actions/router';
import { pingOneApiTest } from './credentialTest';
import * as waitUntilReady from './actions/waitUntilReady.operation';

export class PingOneReports implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'PingOne Reports',
		name: 'pingOneReports',
		icon: { light: 'file:pingone.svg', dark: 'file:pingone.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle:
			'={{ { create: "Create report", get: "Get report", waitUntilReady: "Wait until report is ready", download: "Download report", getEntries: "Get report entries" }[$parameter["operation"]] }}',
		description:
			'Create PingOne reports (data explorations), wait until they are ready, and download the password-protected zip as one item per row',
		defaults: { name: 'PingOne Reports' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		// testedBy names methods.credentialTest.pingOneApiTest (CREDENTIAL_TEST_NAME), spelled out for the linter.
		credentials: [{ name: 'pingOneApi', required: true, testedBy: 'pingOneApiTest' }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'Report', value: 'report' }],
				default: 'report',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['report'] } },
				options: [
					{
						name: 'Create',
						value: 'create',
						description: 'Start a report (PingOne builds it in the background)',
						action: 'Create a report',
					},
					{
						name: 'Download',
						value: 'download',
						description: 'Download, decrypt and unzip a finished report: one item per row',
						action: 'Download a report',
					},
					{ name: 'Get', value: 'get', description: 'Get a report and its status', action: 'Get a report' },
					{
						name: 'Get Entries',
						value: 'getEntries',
						description: 'Get the rows of a report created with Deliver As Entries',
						action: 'Get entries of a report',
					},
					{
						name: 'Wait Until Ready',
						value: 'waitUntilReady',
						description: 'Check the report until its status is SUCCESS',
						action: 'Wait until a report is ready',
					},
				],
				default: 'create',
			},
			...create.description,
			...get.description,
			...waitUntilReady.description,
			...download.description,
			...getEntries.description,
		],
	};

	methods = { credentialTest: { pingOneApiTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
