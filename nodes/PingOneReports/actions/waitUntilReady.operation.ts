import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { includeSecretsOption } from './get.operation';
import {
	getReportId,
	pollOptions,
	readWaitSettings,
	reportForOutput,
	reportIdProperty,
	waitForReport,
} from './common';

export const description: INodeProperties[] = [
	reportIdProperty(['waitUntilReady']),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { resource: ['report'], operation: ['waitUntilReady'] } },
		options: [...pollOptions, includeSecretsOption],
	},
];

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const reportId = getReportId(this, itemIndex);
	const settings = readWaitSettings(this, itemIndex);
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const report = await waitForReport(this, reportId, itemIndex, settings);
	return [
		{
			json: reportForOutput(report, options.includeDownloadSecrets === true),
			pairedItem: { item: itemIndex },
		},
	];
}
