import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { fetchReport, getReportId, reportForOutput, reportIdProperty } from './common';

export const includeSecretsOption: INodeProperties = {
	displayName: 'Include Download Secrets',
	name: 'includeDownloadSecrets',
	type: 'boolean',
	default: false,
	description:
		'Whether to output zipPassword, csvPresignedUrl and jsonPresignedUrl. Off by default: anyone who can read the execution could open the report.',
};

export const description: INodeProperties[] = [
	reportIdProperty(['get']),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { resource: ['report'], operation: ['get'] } },
		options: [includeSecretsOption],
	},
];

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const reportId = getReportId(this, itemIndex);
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const report = await fetchReport(this, reportId, itemIndex);
	return [
		{
			json: reportForOutput(report, options.includeDownloadSecrets === true),
			pairedItem: { item: itemIndex },
		},
	];
}
