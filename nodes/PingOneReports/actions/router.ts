import type { IExecuteFunctions, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import * as create from './create.operation';
import * as download from './download.operation';
import * as get from './get.operation';
import * as getEntries from './getEntries.operation';
import * as waitUntilReady from './waitUntilReady.operation';

type Operation = (this: IExecuteFunctions, itemIndex: number) => Promise<INodeExecutionData[]>;

export const operations: Record<string, Operation> = {
	create: create.execute,
	get: get.execute,
	waitUntilReady: waitUntilReady.execute,
	download: download.execute,
	getEntries: getEntries.execute,
};

function safeMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** Runs the chosen operation once per input item; with Continue On Fail a failing item becomes an error item. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const out: INodeExecutionData[] = [];
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		try {
			const operation = this.getNodeParameter('operation', itemIndex) as string;
			const run = operations[operation];
			if (!run) {
				throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`, {
					itemIndex,
				});
			}
			const result = await run.call(this, itemIndex);
			for (let i = 0; i < result.length; i++) out.push(result[i]);
		} catch (error) {
			if (this.continueOnFail()) {
				out.push({ json: { error: safeMessage(error) }, pairedItem: { item: itemIndex } });
				continue;
			}
			if (error instanceof NodeApiError) {
				if (error.context.itemIndex === undefined) error.context.itemIndex = itemIndex;
				// n8n hands back the same NodeApiError when it is wrapped again.
				throw new NodeApiError(this.getNode(), error as unknown as JsonObject, { itemIndex });
			}
			if (error instanceof NodeOperationError && error.context.itemIndex === undefined) {
				error.context.itemIndex = itemIndex;
			}
			// A NodeOperationError comes back as it is; anything else is wrapped with the item index.
			throw new NodeOperationError(this.getNode(), error as Error, { itemIndex });
		}
	}
	return [out];
}
