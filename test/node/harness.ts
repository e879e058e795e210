/**
 * Runs nodes through n8n-core's real execution engine, in-process (no server, no database).
 *
 * Modelled on n8n's own `packages/core/nodes-testing/node-test-harness.ts` and the CLI's
 * `credentials-helper.ts` / `credentials-tester.service.ts`, rebuilt on the public classes of
 * n8n-core / n8n-workflow: `Workflow`, `WorkflowExecute`, `ExecutionLifecycleHooks`,
 * `ICredentialsHelper`, `RoutingNode`, `ExecuteContext`.
 *
 * What is real here: parameter resolution, expressions, `continueOnFail`/`onError`, pairedItem,
 * `httpRequestWithAuthentication` (including its preAuthentication + retry-on-401 logic), the
 * abort signal on cancellation, `prepareBinaryData` (binary data kept inline as base64, like
 * n8n's InlineBinaryDataService) and the credential test via `RoutingNode`.
 * What is ours: the credential store (a plain mutable object instead of an encrypted database)
 * and a quiet logger.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import {
	BinaryDataService,
	ErrorReporter,
	ExecuteContext,
	ExecutionLifecycleHooks,
	RoutingNode,
	WorkflowExecute,
} from 'n8n-core';
import type { BinaryDataConfig } from 'n8n-core';
import {
	ICredentialsHelper,
	LoggerProxy,
	NodeHelpers,
	Workflow,
	isExpression,
} from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	ICredentials,
	ICredentialsDecrypted,
	ICredentialsEncrypted,
	ICredentialsExpressionResolveValues,
	ICredentialTestRequest,
	ICredentialType,
	IConnections,
	IDataObject,
	IExecuteData,
	IExecuteFunctions,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeExecutionData,
	INodeParameters,
	INodeProperties,
	INodeType,
	INodeTypes,
	IRequestOptionsSimplified,
	IRun,
	IRunData,
	IRunExecutionData,
	ITaskDataConnections,
	IVersionedNodeType,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	WorkflowExecuteMode,
} from 'n8n-workflow';

// ---------------------------------------------------------------------------------------------
// Process-wide set-up (logger, instance settings, binary data) — done once, lazily.
// ---------------------------------------------------------------------------------------------

export interface HarnessLogEntry {
	level: 'error' | 'warn' | 'info' | 'debug';
	message: string;
	metadata?: unknown;
}

/** Everything n8n (and our node, through `this.logger`) logged during this process. */
export const harnessLogs: HarnessLogEntry[] = [];

function makeQuietLogger() {
	const record = (level: HarnessLogEntry['level']) => (message: string, metadata?: unknown) => {
		harnessLogs.push({ level, message, metadata });
		if (process.env.HARNESS_LOG === '1') console.error(`[n8n ${level}] ${message}`);
	};
	const logger = {
		error: record('error'),
		warn: record('warn'),
		info: record('info'),
		debug: record('debug'),
		scoped: () => logger,
	};
	return logger;
}

function createDeferredPromise<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
	let resolve!: (v: T) => void;
	const promise = new Promise<T>((r) => {
		resolve = r;
	});
	return { promise, resolve };
}

let environmentReady = false;

function ensureEnvironment(): void {
	if (environmentReady) return;
	// InstanceSettings (used by every node execution context) writes a settings file into the
	// n8n user folder: point it at a throwaway folder, never at the real ~/.n8n.
	if (!process.env.N8N_USER_FOLDER) {
		const folder = mkdtempSync(path.join(tmpdir(), 'n8n-harness-'));
		process.env.N8N_USER_FOLDER = folder;
		process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
	}
	process.env.N8N_DIAGNOSTICS_ENABLED ??= 'false';
	const logger = makeQuietLogger();
	LoggerProxy.init(logger);
	Container.set(Logger, logger as unknown as Logger);
	const errorReporter = { error: () => {}, warn: () => {}, info: () => {} };
	Container.set(ErrorReporter, errorReporter as unknown as ErrorReporter);
	// No manager is registered, so BinaryDataService keeps binary data inline (base64 in
	// `data`), exactly like n8n's own test harness does with InlineBinaryDataService.
	Container.set(
		BinaryDataService,
		new BinaryDataService(
			{ mode: 'default' } as unknown as BinaryDataConfig,
			errorReporter as unknown as ErrorReporter,
			logger as unknown as Logger,
		),
	);
	environmentReady = true;
}

// ---------------------------------------------------------------------------------------------
// Node types
// ---------------------------------------------------------------------------------------------

export const START_NODE_TYPE = 'test.start';

/**
 * The start node of every harness workflow. Outputs the items in its `items` parameter
 * (a JSON array of plain objects) if set, else the items the run was started with.
 */
export class HarnessStart implements INodeType {
	description = {
		displayName: 'Harness Start',
		name: START_NODE_TYPE,
		group: ['trigger'],
		version: 1,
		description: 'Starts a harness workflow',
		defaults: { name: 'Start' },
		inputs: [],
		outputs: ['main'],
		properties: [
			{
				displayName: 'Items',
				name: 'items',
				type: 'json',
				default: '',
				description: 'JSON array of objects to output instead of the run input',
			},
		],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const param = this.getNodeParameter('items', 0, '') as unknown;
		if (param !== '' && param !== undefined && param !== null) {
			const parsed = (typeof param === 'string' ? JSON.parse(param) : param) as IDataObject[];
			return [parsed.map((json) => ({ json, pairedItem: { item: 0 } }))];
		}
		return [this.getInputData()];
	}
}

class HarnessNodeTypes implements INodeTypes {
	constructor(private readonly types: Record<string, INodeType | IVersionedNodeType>) {}

	getByName(type: string): INodeType | IVersionedNodeType {
		const found = this.types[type];
		if (!found) throw new Error(`Unknown node type "${type}" (known: ${Object.keys(this.types).join(', ')})`);
		return found;
	}

	getByNameAndVersion(type: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(type), version);
	}

	getKnownTypes(): IDataObject {
		return Object.fromEntries(Object.keys(this.types).map((t) => [t, { className: t, sourcePath: '' }]));
	}
}

function typeNameOf(nodeType: INodeType | IVersionedNodeType): string {
	return nodeType.description.name;
}

/**
 * The engine keeps only a plain-object copy of a node's error (`{ ...error, message, stack }`).
 * To hand tests the real NodeApiError/NodeOperationError instance, `execute` is wrapped (same
 * prototype, same `this`, same arguments, error rethrown unchanged) to remember what it threw.
 */
function withErrorCapture(
	nodeType: INodeType | IVersionedNodeType,
	thrown: Map<string, unknown>,
): INodeType | IVersionedNodeType {
	const original = (nodeType as INodeType).execute;
	if (typeof original !== 'function') return nodeType;
	const wrapped = Object.create(nodeType) as INodeType;
	wrapped.execute = async function (this: unknown, ...args: unknown[]) {
		try {
			return await (original as (...a: unknown[]) => Promise<INodeExecutionData[][] | null>).apply(this, args);
		} catch (error) {
			const ctx = (typeof (this as IExecuteFunctions)?.getNode === 'function' ? this : args[0]) as
				| IExecuteFunctions
				| undefined;
			const name = ctx?.getNode?.()?.name;
			if (name) thrown.set(name, error);
			throw error;
		}
	} as INodeType['execute'];
	return wrapped;
}

function buildNodeTypes(
	given: Array<INodeType | IVersionedNodeType> | Record<string, INodeType | IVersionedNodeType>,
	thrown: Map<string, unknown>,
): HarnessNodeTypes {
	const map: Record<string, INodeType | IVersionedNodeType> = { [START_NODE_TYPE]: new HarnessStart() };
	const entries: Array<[string, INodeType | IVersionedNodeType]> = Array.isArray(given)
		? given.map((t) => [typeNameOf(t), t])
		: Object.entries(given);
	for (const [name, t] of entries) map[name] = withErrorCapture(t, thrown);
	return new HarnessNodeTypes(map);
}

// Node types used when credentials are resolved outside a workflow (like n8n's mock node types).
const mockNode: INode = {
	id: 'mock',
	name: '',
	typeVersion: 1,
	type: 'mock',
	position: [0, 0],
	parameters: {},
};
const mockNodeTypes = new HarnessNodeTypes({
	mock: { description: { properties: [] } } as unknown as INodeType,
});

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

/** Decrypted credential data by credential type name. Mutated in place when n8n updates it. */
export interface HarnessCredentialStore {
	[typeName: string]: ICredentialDataDecryptedObject;
}

/** One call n8n made into the credentials helper, for assertions. */
export interface CredentialEvent {
	kind: 'preAuthentication' | 'updateCredentials' | 'authenticate';
	type: string;
	expired?: boolean;
}

/**
 * Our `ICredentialsHelper`: n8n's CLI CredentialsHelper logic (defaults from the credential's
 * properties, expressions resolved, generic `authenticate`, expirable-field `preAuthentication`
 * written back) on a plain object store instead of the database.
 */
export class HarnessCredentialsHelper extends ICredentialsHelper {
	readonly events: CredentialEvent[] = [];

	private readonly types: Map<string, ICredentialType>;

	constructor(
		credentialTypes: ICredentialType[],
		readonly store: HarnessCredentialStore = {},
	) {
		super();
		this.types = new Map(credentialTypes.map((t) => [t.name, t]));
	}

	getType(name: string): ICredentialType {
		const t = this.types.get(name);
		if (!t) throw new Error(`Unknown credential type "${name}"`);
		return t;
	}

	getParentTypes(name: string): string[] {
		const t = this.types.get(name);
		if (!t?.extends) return [];
		const result: string[] = [];
		for (const parent of t.extends) {
			result.push(parent, ...this.getParentTypes(parent));
		}
		return result;
	}

	isCredentialUsableByNode(credentialType: string, nodeType: string): boolean {
		const t = this.types.get(credentialType);
		if (!t?.restrictToSupportedNodes) return true;
		return (t.supportedNodes ?? []).some((n) => nodeType === n || nodeType.endsWith(`.${n}`));
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		const t = this.getType(type);
		if (t.extends === undefined) return t.properties;
		const combined: INodeProperties[] = [];
		for (const parent of t.extends) {
			if (this.types.has(parent)) {
				NodeHelpers.mergeNodeProperties(combined, this.getCredentialsProperties(parent));
			}
		}
		NodeHelpers.mergeNodeProperties(combined, t.properties);
		return combined;
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		incomingRequestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow?: Workflow,
		node?: INode,
	): Promise<IHttpRequestOptions> {
		this.events.push({ kind: 'authenticate', type: typeName });
		const requestOptions = incomingRequestOptions as IHttpRequestOptions;
		const credentialType = this.getType(typeName);
		const { authenticate } = credentialType;
		if (!authenticate) return requestOptions;
		if (typeof authenticate === 'function') {
			return await authenticate(credentials, requestOptions);
		}
		if (authenticate.type === 'generic') {
			const wf = workflow ?? mockWorkflow();
			const n = node ?? mockNode;
			requestOptions.headers ??= {};
			for (const [outerKey, outerValue] of Object.entries(authenticate.properties)) {
				for (const [key, value] of Object.entries(outerValue as Record<string, unknown>)) {
					const keyResolved = resolveValue(key, credentials, wf, n);
					const valueResolved = resolveValue(value as string, credentials, wf, n);
					const target = requestOptions as unknown as Record<string, Record<string, unknown>>;
					target[outerKey] ??= {};
					target[outerKey][keyResolved] = valueResolved;
				}
			}
		}
		return requestOptions;
	}

	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.getType(typeName);
		const expirable = credentialType.properties.find(
			(p) => p.type === 'hidden' && p.typeOptions?.expirable === true,
		);
		if (expirable?.name === undefined) return undefined;
		if (typeof credentialType.preAuthentication !== 'function') return undefined;
		// n8n runs it always during a credential test (its temporary "Temp-Node" noOp node).
		const isTestingCredentials = node?.parameters?.temp === '' && node?.type === 'n8n-nodes-base.noOp';
		if (!(credentials[expirable.name] === '' || credentialsExpired || isTestingCredentials)) {
			return undefined;
		}
		this.events.push({ kind: 'preAuthentication', type: typeName, expired: credentialsExpired });
		const output = await credentialType.preAuthentication.call(helpers, credentials);
		if (output?.[expirable.name] === undefined) return undefined;
		if (node.credentials) {
			const stored = this.store[typeName] ?? {};
			const toPersist: ICredentialDataDecryptedObject = { ...stored };
			for (const [key, value] of Object.entries(output as ICredentialDataDecryptedObject)) {
				if (key === expirable.name || !isExpression(stored[key])) toPersist[key] = value;
			}
			await this.updateCredentials(node.credentials[typeName] ?? { id: typeName, name: typeName }, typeName, toPersist);
			return Object.assign(credentials, output);
		}
		return undefined;
	}

	async runPreAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const credentialType = this.getType(typeName);
		if (typeof credentialType.preAuthentication !== 'function') return undefined;
		const output = await credentialType.preAuthentication.call(helpers, credentials);
		return (output as ICredentialDataDecryptedObject | undefined) ?? undefined;
	}

	async getCredentials(nodeCredentials: INodeCredentialsDetails, type: string): Promise<ICredentials> {
		const data = this.rawData(nodeCredentials, type);
		const helper = this;
		return {
			id: nodeCredentials.id ?? undefined,
			name: nodeCredentials.name,
			type,
			data: undefined,
			async getData() {
				return { ...data };
			},
			getDataToSave(): ICredentialsEncrypted {
				return { id: nodeCredentials.id ?? undefined, name: nodeCredentials.name, type, data: '' };
			},
			async setData(newData: ICredentialDataDecryptedObject) {
				helper.store[type] = { ...newData };
			},
			async updateData(toUpdate: Partial<ICredentialDataDecryptedObject>, toDelete: string[] = []) {
				const next = { ...(helper.store[type] ?? {}), ...toUpdate } as ICredentialDataDecryptedObject;
				for (const k of toDelete) delete next[k];
				helper.store[type] = next;
			},
		} as unknown as ICredentials;
	}

	async getDecrypted(
		additionalData: IWorkflowExecuteAdditionalData,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		raw?: boolean,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): Promise<ICredentialDataDecryptedObject> {
		const data = { ...this.rawData(nodeCredentials, type) };
		if (raw === true) return data;
		return this.applyDefaults(additionalData, data, type, mode, executeData, expressionResolveValues);
	}

	/** Defaults from the credential's properties (respecting displayOptions), then expressions. */
	applyDefaults(
		additionalData: IWorkflowExecuteAdditionalData | undefined,
		data: ICredentialDataDecryptedObject,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): ICredentialDataDecryptedObject {
		const properties = this.getCredentialsProperties(type);
		let decrypted = NodeHelpers.getNodeParameters(
			properties,
			data as INodeParameters,
			true,
			false,
			null,
			null,
		) as ICredentialDataDecryptedObject;
		if (data.oauthTokenData !== undefined) decrypted.oauthTokenData = data.oauthTokenData;
		const additionalKeys = {
			$execution: { id: additionalData?.executionId ?? 'harness', mode },
		} as unknown as Parameters<Workflow['expression']['getParameterValue']>[7];
		if (expressionResolveValues) {
			try {
				decrypted = expressionResolveValues.workflow.expression.getParameterValue(
					decrypted as INodeParameters,
					expressionResolveValues.runExecutionData,
					expressionResolveValues.runIndex,
					expressionResolveValues.itemIndex,
					expressionResolveValues.node.name,
					expressionResolveValues.connectionInputData,
					mode,
					additionalKeys,
					executeData,
					false,
					decrypted,
				) as ICredentialDataDecryptedObject;
			} catch (e) {
				(e as Error).message += ' [Error resolving credentials]';
				throw e;
			}
		} else if (Object.values(decrypted).some((v) => isExpression(v))) {
			decrypted = mockWorkflow().expression.getComplexParameterValue(
				mockNode,
				decrypted as INodeParameters,
				mode,
				additionalKeys,
				undefined,
				undefined,
				decrypted,
			) as ICredentialDataDecryptedObject;
		}
		return decrypted;
	}

	async updateCredentials(
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.events.push({ kind: 'updateCredentials', type });
		this.store[type] = { ...data };
	}

	async updateCredentialsOauthTokenData(
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.store[type] = { ...(this.store[type] ?? {}), oauthTokenData: data.oauthTokenData };
	}

	private rawData(nodeCredentials: INodeCredentialsDetails, type: string): ICredentialDataDecryptedObject {
		const data = this.store[type];
		if (data === undefined) {
			throw new Error(
				`Credential with ID "${nodeCredentials.id ?? ''}" does not exist for type "${type}".`,
			);
		}
		return data;
	}
}

function mockWorkflow(): Workflow {
	return new Workflow({ nodes: [mockNode], connections: {}, active: false, nodeTypes: mockNodeTypes });
}

function resolveValue(
	value: string,
	credentials: ICredentialDataDecryptedObject,
	workflow: Workflow,
	node: INode,
): string {
	if (!isExpression(value)) return value;
	const resolved = workflow.expression.getSimpleParameterValue(
		node,
		value,
		'internal',
		{ $credentials: credentials } as unknown as Parameters<Workflow['expression']['getSimpleParameterValue']>[3],
		undefined,
		'',
	);
	if (!resolved) return '';
	return String(resolved);
}

// ---------------------------------------------------------------------------------------------
// Workflows
// ---------------------------------------------------------------------------------------------

export type ChainNode = Partial<INode> & { type: string; parameters: object };

/** Start → n1 → n2 … (main output 0 to main input 0). Names default to `<type> <n>`. */
export function chain(
	nodes: ChainNode[],
	start: { items?: IDataObject[]; name?: string } = {},
): { nodes: INode[]; connections: IConnections } {
	const startNode: INode = {
		id: randomUUID(),
		name: start.name ?? 'Start',
		type: START_NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: start.items ? { items: JSON.stringify(start.items) } : {},
	};
	const all: INode[] = [startNode];
	nodes.forEach((n, i) => {
		all.push({
			...n,
			id: n.id ?? randomUUID(),
			name: n.name ?? `${n.type.split('.').pop()} ${i + 1}`,
			type: n.type,
			typeVersion: n.typeVersion ?? 1,
			position: n.position ?? [200 * (i + 1), 0],
			parameters: n.parameters as INodeParameters,
		});
	});
	const connections: IConnections = {};
	for (let i = 0; i < all.length - 1; i++) {
		connections[all[i].name] = { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] };
	}
	return { nodes: all, connections };
}

export interface RunOptions {
	/** Node classes instantiated; the start node type `test.start` is always added. */
	nodeTypes: Array<INodeType | IVersionedNodeType> | Record<string, INodeType | IVersionedNodeType>;
	credentialTypes?: ICredentialType[];
	/** Mutable: n8n's updates (preAuthentication tokens) are written back into it. */
	credentials?: HarnessCredentialStore;
	workflow: { nodes: INode[]; connections: IConnections; settings?: IWorkflowBase['settings'] };
	/** What the start node outputs (unless its `items` parameter is set). Default: one empty item. */
	inputItems?: INodeExecutionData[];
	/** Name of the node to start from; default: the `test.start` node, else the first node. */
	startNodeName?: string;
	mode?: WorkflowExecuteMode;
	/** Cancel the execution (like the "stop" button) after this many ms. */
	cancelAfterMs?: number;
	/** Cancel the execution when this signal aborts. */
	abortSignal?: AbortSignal;
	/** After a cancel, how long to wait for the running node to stop before giving up. Default 10 s. */
	cancelGraceMs?: number;
	/** Sets `executionTimeoutTimestamp` (n8n's workflow timeout). */
	timeoutMs?: number;
}

export interface RunResult {
	/** Per node name: the output of its last run, per output index. */
	outputs: Record<string, INodeExecutionData[][]>;
	/** The run's error (NodeApiError / NodeOperationError / cancellation error), if any. */
	error?: Error;
	/** Per node name: the error of its last run, if it had one. */
	nodeErrors: Record<string, unknown>;
	runData: IRunData;
	status: IRun['status'];
	finished: boolean;
	/** Order in which nodes finished. */
	nodeExecutionOrder: string[];
	credentialsHelper: HarnessCredentialsHelper;
	/** The credential store after the run (same object as options.credentials when given). */
	credentials: HarnessCredentialStore;
	/** True when the run was cancelled. */
	cancelled: boolean;
}

/** Runs a workflow through n8n-core's WorkflowExecute and collects what every node output. */
export async function runWorkflow(options: RunOptions): Promise<RunResult> {
	ensureEnvironment();
	const thrown = new Map<string, unknown>();
	const nodeTypes = buildNodeTypes(options.nodeTypes, thrown);
	const store = options.credentials ?? {};
	const credentialsHelper = new HarnessCredentialsHelper(options.credentialTypes ?? [], store);
	const mode = options.mode ?? 'manual';
	const executionId = `harness-${randomUUID()}`;

	const nodes: INode[] = options.workflow.nodes.map((n) => ({ ...n, parameters: { ...n.parameters } }));
	// Attach credentials the store holds to nodes that declare them but have none set.
	for (const node of nodes) {
		if (node.type === START_NODE_TYPE) continue;
		const described = nodeTypes.getByNameAndVersion(node.type, node.typeVersion).description.credentials ?? [];
		for (const c of described) {
			if (store[c.name] !== undefined && !node.credentials?.[c.name]) {
				node.credentials = { ...(node.credentials ?? {}), [c.name]: { id: `${c.name}-id`, name: c.name } };
			}
		}
	}

	const workflowData: IWorkflowBase = {
		id: 'harness-workflow',
		name: 'Harness workflow',
		active: false,
		isArchived: false,
		nodes,
		connections: options.workflow.connections,
		settings: options.workflow.settings ?? { executionOrder: 'v1' },
		createdAt: new Date(),
		updatedAt: new Date(),
	} as unknown as IWorkflowBase;

	const workflow = new Workflow({
		id: workflowData.id,
		name: workflowData.name,
		nodes,
		connections: options.workflow.connections,
		nodeTypes,
		settings: workflowData.settings,
		active: false,
	});

	const hooks = new ExecutionLifecycleHooks(mode, executionId, workflowData);
	const nodeExecutionOrder: string[] = [];
	hooks.addHandler('nodeExecuteAfter', (nodeName: string) => {
		nodeExecutionOrder.push(nodeName);
	});
	const afterRun = createDeferredPromise<IRun>();
	hooks.addHandler('workflowExecuteAfter', (fullRunData: IRun) => afterRun.resolve(fullRunData));

	const additionalData = {
		credentialsHelper,
		hooks,
		executionId,
		workflowId: workflowData.id,
		userId: 'harness-user',
		currentNodeParameters: undefined,
		currentNodeExecutionIndex: 0,
		variables: {},
		restApiUrl: 'http://localhost:5678/rest',
		instanceBaseUrl: 'http://localhost:5678/',
		formBaseUrl: 'http://localhost:5678/form',
		formWaitingBaseUrl: 'http://localhost:5678/form-waiting',
		formTestBaseUrl: 'http://localhost:5678/form-test',
		webhookBaseUrl: 'http://localhost:5678/webhook',
		webhookWaitingBaseUrl: 'http://localhost:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://localhost:5678/webhook-test',
		mcpBaseUrl: 'http://localhost:5678/mcp',
		mcpTestBaseUrl: 'http://localhost:5678/mcp-test',
		executionTimeoutTimestamp: options.timeoutMs ? Date.now() + options.timeoutMs : undefined,
		setExecutionStatus: () => {},
		sendDataToUI: () => {},
		logAiEvent: () => {},
		executeWorkflow: async () => {
			throw new Error('Sub-workflows are not supported by the test harness');
		},
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		startRunnerTask: async () => {
			throw new Error('Task runners are not available in the test harness');
		},
	} as unknown as IWorkflowExecuteAdditionalData;

	const startNode =
		(options.startNodeName ? workflow.getNode(options.startNodeName) : null) ??
		nodes.find((n) => n.type === START_NODE_TYPE) ??
		nodes[0];
	if (!startNode) throw new Error('The workflow has no nodes');

	const runExecutionData: IRunExecutionData = {
		version: 1,
		startData: {},
		resultData: { runData: {} },
		executionData: {
			contextData: {},
			metadata: {},
			nodeExecutionStack: [
				{
					node: startNode,
					data: { main: [options.inputItems ?? [{ json: {} }]] },
					source: null,
				},
			],
			waitingExecution: {},
			waitingExecutionSource: {},
		},
	} as unknown as IRunExecutionData;

	const workflowExecute = new WorkflowExecute(additionalData, mode, runExecutionData);
	const running = workflowExecute.processRunExecutionData(workflow);

	let cancelled = false;
	const cancelRequested = createDeferredPromise<void>();
	let timer: NodeJS.Timeout | undefined;
	const cancel = () => {
		if (cancelled) return;
		cancelled = true;
		running.cancel();
		cancelRequested.resolve();
	};
	if (options.cancelAfterMs !== undefined) timer = setTimeout(cancel, options.cancelAfterMs);
	if (options.abortSignal) {
		if (options.abortSignal.aborted) cancel();
		else options.abortSignal.addEventListener('abort', cancel, { once: true });
	}

	let run: IRun;
	try {
		// The PCancelable resolves when the run ends: normally, by error, or — after a cancel —
		// once the running node has returned (it should honour the abort signal).
		const finished = (async () => (await running) ?? (await afterRun.promise))();
		const first = await Promise.race([finished, cancelRequested.promise.then(() => null)]);
		if (first) {
			run = first;
		} else {
			const grace = options.cancelGraceMs ?? 10_000;
			let graceTimer: NodeJS.Timeout | undefined;
			const stopped = await Promise.race([
				finished,
				new Promise<null>((r) => {
					graceTimer = setTimeout(() => r(null), grace);
				}),
			]);
			clearTimeout(graceTimer);
			if (stopped) {
				run = stopped;
			} else {
				run = await afterRun.promise;
				run.data.resultData.error ??= new Error(
					`Execution did not stop within ${grace} ms after cancel`,
				) as never;
			}
		}
	} finally {
		if (timer) clearTimeout(timer);
		options.abortSignal?.removeEventListener('abort', cancel);
	}

	const runData = run.data.resultData.runData;
	const outputs: Record<string, INodeExecutionData[][]> = {};
	const nodeErrors: Record<string, unknown> = {};
	for (const [name, tasks] of Object.entries(runData)) {
		const last = tasks[tasks.length - 1];
		if (last?.data?.main) outputs[name] = last.data.main.map((o) => o ?? []);
		if (last?.error) {
			const original = thrown.get(name);
			nodeErrors[name] =
				original instanceof Error && original.message === last.error.message ? original : last.error;
		}
	}
	return {
		outputs,
		error: runError(run, nodeErrors),
		nodeErrors,
		runData,
		status: run.status,
		finished: run.finished === true,
		nodeExecutionOrder,
		credentialsHelper,
		credentials: store,
		cancelled,
	};
}

/**
 * The engine stores the run's error as a spread copy (`{ ...error, message, stack }`), which
 * loses the class. Return the original instance from the failing node's task data when it is
 * the same error, else an Error carrying the copy's fields.
 */
function runError(run: IRun, nodeErrors: Record<string, unknown>): Error | undefined {
	const copy = run.data.resultData.error as unknown as { message?: unknown } | undefined;
	if (copy === undefined) return undefined;
	if (copy instanceof Error) return copy;
	const last = run.data.resultData.lastNodeExecuted;
	const original = last ? nodeErrors[last] : undefined;
	if (original instanceof Error && original.message === copy.message) return original;
	const error = new Error(String(copy.message));
	Object.assign(error, copy);
	return error;
}

// ---------------------------------------------------------------------------------------------
// Credential test (n8n's CredentialsTester, request-based branch)
// ---------------------------------------------------------------------------------------------

export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
}

/**
 * Runs the credential type's `test` request the way n8n's CredentialsTester does: defaults
 * applied, a temporary `n8n-nodes-base.noOp` node whose single property routes the test
 * request, executed by n8n-core's RoutingNode (which goes through httpRequestWithAuthentication,
 * so preAuthentication and authenticate apply), then `test.rules` checked.
 */
export async function testCredential(
	credentialType: ICredentialType,
	data: ICredentialDataDecryptedObject,
	options: { otherCredentialTypes?: ICredentialType[] } = {},
): Promise<CredentialTestResult> {
	ensureEnvironment();
	const test = credentialType.test as ICredentialTestRequest | undefined;
	if (!test) return { status: 'Error', message: 'No testing function found for this credential.' };

	const store: HarnessCredentialStore = { [credentialType.name]: { ...data } };
	const helper = new HarnessCredentialsHelper(
		[credentialType, ...(options.otherCredentialTypes ?? [])],
		store,
	);
	let decryptedData: ICredentialDataDecryptedObject;
	try {
		decryptedData = helper.applyDefaults(undefined, { ...data }, credentialType.name, 'internal');
	} catch (error) {
		return { status: 'Error', message: String((error as Error).message) };
	}
	const credentialsDecrypted: ICredentialsDecrypted = {
		id: 'credential-test',
		name: credentialType.displayName,
		type: credentialType.name,
		data: decryptedData,
	};

	const nodeTypeCopy: INodeType = {
		description: {
			displayName: 'No Operation, do nothing',
			name: 'n8n-nodes-base.noOp',
			group: ['organization'],
			version: 1,
			description: 'credential test',
			defaults: { name: 'No Operation, do nothing' },
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: credentialType.name, required: true }],
			properties: [
				{
					displayName: 'Temp',
					name: 'temp',
					type: 'string',
					routing: { request: test.request },
					default: '',
				},
			],
		},
	} as unknown as INodeType;
	const node: INode = {
		id: 'temp',
		parameters: {},
		name: 'Temp-Node',
		type: 'n8n-nodes-base.noOp',
		typeVersion: 1,
		position: [0, 0],
		credentials: { [credentialType.name]: { id: 'credential-test', name: credentialType.displayName } },
	};
	const workflow = new Workflow({
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: new HarnessNodeTypes({ 'n8n-nodes-base.noOp': nodeTypeCopy }),
	});
	const additionalData = {
		credentialsHelper: helper,
		executionId: 'credential-test',
		currentNodeExecutionIndex: 0,
		variables: {},
		restApiUrl: '',
		instanceBaseUrl: '',
		webhookBaseUrl: '',
		webhookWaitingBaseUrl: '',
		webhookTestBaseUrl: '',
		formWaitingBaseUrl: '',
		logAiEvent: () => {},
	} as unknown as IWorkflowExecuteAdditionalData;
	const inputData: ITaskDataConnections = { main: [[{ json: {} }]] };
	const runExecutionData = { resultData: { runData: {} } } as unknown as IRunExecutionData;
	const executeData: IExecuteData = { node, data: {}, source: null };
	const context = new ExecuteContext(
		workflow,
		node,
		additionalData,
		'internal',
		runExecutionData,
		0,
		[],
		inputData,
		executeData,
		[],
	);
	const routingNode = new RoutingNode(context, nodeTypeCopy, credentialsDecrypted);

	let response: INodeExecutionData[][] | null | undefined;
	try {
		response = await routingNode.runNode();
	} catch (error) {
		const cause = (error as { cause?: { response?: { status: number; statusText?: string }; code?: string } })
			.cause;
		if (cause?.response) {
			const statusCode = cause.response.status;
			for (const rule of test.rules ?? []) {
				if (rule.type === 'responseCode' && statusCode === rule.properties.value) {
					return { status: 'Error', message: rule.properties.message };
				}
			}
			if (statusCode < 199 || statusCode > 299) {
				return {
					status: 'Error',
					message: cause.response.statusText || `Received HTTP status code: ${statusCode}`,
				};
			}
		} else if (cause?.code) {
			return { status: 'Error', message: cause.code };
		}
		return { status: 'Error', message: String((error as Error).message) };
	}
	for (const rule of test.rules ?? []) {
		if (rule.type === 'responseSuccessBody') {
			const json = response?.[0]?.[0]?.json;
			if (getPath(json, rule.properties.key) === rule.properties.value) {
				return { status: 'Error', message: rule.properties.message };
			}
		}
	}
	return { status: 'OK', message: 'Connection successful!' };
}

function getPath(obj: unknown, key: string): unknown {
	let cur: unknown = obj;
	for (const part of key.split('.')) {
		if (cur === null || typeof cur !== 'object') return undefined;
		cur = (cur as Record<string, unknown>)[part];
	}
	return cur;
}
