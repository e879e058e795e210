// Deterministic device rows for the simulated "Devices report", their CSV / JSON serialisation,
// and a small evaluator for PingOne's SCIM-like report filters.
//
// Row i depends only on (seed, i): rows are computed on demand, never held all at once, so a
// report of 1,000,000 rows is streamed to disk chunk by chunk.

export const DEVICES_TEMPLATE_ID = 'db632bfd-7054-4bde-b108-a384aac2d513';
export const DEVICES_TEMPLATE_NAME = 'Devices report';

/** Every column the simulated template knows, in a stable order. */
export const KNOWN_FIELDS = [
	'userId',
	'username',
	'email',
	'givenName',
	'familyName',
	'phone',
	'deviceId',
	'deviceType',
	'deviceStatus',
	'deviceNickname',
	'mfaEnabled',
	'createdAt',
] as const;
export type FieldName = (typeof KNOWN_FIELDS)[number];
export const DEFAULT_FIELDS: FieldName[] = ['userId', 'username', 'phone', 'deviceStatus', 'deviceId'];

export type DeviceRow = Record<FieldName, string>;

export function isKnownField(name: string): name is FieldName {
	return (KNOWN_FIELDS as readonly string[]).includes(name);
}

// ---------------------------------------------------------------- PRNG

/** Integer hash (splitmix-like, 32 bit) to derive independent streams from (seed, tag, index). */
function mix(a: number, b: number, c: number): number {
	let h = (a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca77)) >>> 0;
	h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
	h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
	return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: tiny, fast, good enough for test data. */
class Rng {
	private s: number;
	constructor(seed: number) {
		this.s = seed >>> 0;
	}
	next(): number {
		this.s = (this.s + 0x6d2b79f5) >>> 0;
		let t = this.s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	}
	int(n: number): number {
		return Math.floor(this.next() * n);
	}
	pick<T>(list: readonly T[]): T {
		return list[this.int(list.length)];
	}
	hex(n: number): string {
		let out = '';
		for (let i = 0; i < n; i++) out += HEX[this.int(16)];
		return out;
	}
	uuid(): string {
		return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${'89ab'[this.int(4)]}${this.hex(3)}-${this.hex(12)}`;
	}
}
const HEX = '0123456789abcdef';

// ---------------------------------------------------------------- pools

interface Person {
	given: string;
	family: string;
	stem: string; // ASCII stem for username / email
}
const GIVEN: [string, string][] = [
	['Ana', 'ana'], ['Ben', 'ben'], ['Chloé', 'chloe'], ['Dmitri', 'dmitri'], ['Emma', 'emma'],
	['François', 'francois'], ['Grace', 'grace'], ['Hiro', 'hiro'], ['Inès', 'ines'], ['José', 'jose'],
	['Katarzyna', 'katarzyna'], ['Łukasz', 'lukasz'], ['Mia', 'mia'], ['Noah', 'noah'], ['Øystein', 'oystein'],
	['Priya', 'priya'], ['Renée', 'renee'], ['Sam', 'sam'], ['Zoë', 'zoe'], ['李', 'li'], ['Олег', 'oleg'],
];
const FAMILY: [string, string][] = [
	['Smith', 'smith'], ['Johnson', 'johnson'], ["O'Brien", 'obrien'], ['Müller', 'mueller'], ['García', 'garcia'],
	['Nguyễn', 'nguyen'], ['Dvořák', 'dvorak'], ['Kowalski', 'kowalski'], ['Åberg', 'aberg'], ['van der Berg', 'vanderberg'],
	['Tanaka', 'tanaka'], ['Brown', 'brown'], ['Patel', 'patel'], ['Rossi', 'rossi'], ['王', 'wang'],
];
/** Values that need CSV quoting; the first users always get these so small reports cover them. */
const SPECIAL: Person[] = [
	{ given: 'Robert "Bob"', family: 'Baker', stem: 'bob.baker' },
	{ given: 'Jean', family: 'Doe, Jr.', stem: 'jean.doe' },
	{ given: 'Mary\nAnn', family: 'Lee', stem: 'maryann.lee' },
	{ given: 'Siobhán', family: 'Ó Súilleabháin', stem: 'siobhan.osullivan' },
	{ given: 'Ann, "Annie"', family: 'Line1\r\nLine2', stem: 'annie.line' },
];

export const DEVICE_TYPES = ['SMS', 'EMAIL', 'MOBILE', 'TOTP', 'FIDO2', 'VOICE'] as const;
const STATUS_WEIGHTED = [
	'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE',
	'ACTIVATION_REQUIRED', 'ACTIVATION_REQUIRED', 'BLOCKED',
] as const;
const BASE_TIME = Date.UTC(2023, 0, 1);
const SPAN_MS = 2 * 365 * 24 * 3600 * 1000;

/** Rows 0,1 share user 0; 2 → 1; 3,4 → 2; … (some users have two devices). */
function userIndexOf(i: number): number {
	return Math.floor((i * 2) / 3);
}

function personFor(seed: number, userIndex: number): { person: Person; userId: string; mfa: string; n: number } {
	const r = new Rng(mix(seed, 0x05e7, userIndex));
	const userId = r.uuid();
	const mfa = r.int(5) === 0 ? 'false' : 'true';
	let person: Person;
	// user 0 stays plain; users 1..SPECIAL.length get the awkward names; later, ~4% awkward
	if (userIndex >= 1 && userIndex <= SPECIAL.length) person = SPECIAL[userIndex - 1];
	else if (userIndex > SPECIAL.length && r.int(25) === 0) person = r.pick(SPECIAL);
	else {
		const g = r.pick(GIVEN);
		const f = r.pick(FAMILY);
		person = { given: g[0], family: f[0], stem: `${g[1]}.${f[1]}` };
	}
	return { person, userId, mfa, n: userIndex };
}

/** The full row number i (0-based) of the environment's device population. */
export function deviceRow(seed: number, i: number): DeviceRow {
	const u = personFor(seed, userIndexOf(i));
	const r = new Rng(mix(seed, 0xde71ce, i));
	const deviceId = r.uuid();
	const deviceType = r.pick(DEVICE_TYPES);
	const deviceStatus = r.pick(STATUS_WEIGHTED);
	const phoneDigits = String(1000000 + r.int(8999999));
	const created = new Date(BASE_TIME + r.int(SPAN_MS)).toISOString();
	const nickPick = r.int(20);
	const username = `${u.person.stem}${u.n}`;
	let deviceNickname = `${u.person.given.split(/[\s,]/)[0]}'s ${deviceType.toLowerCase()}`;
	if (nickPick === 0) deviceNickname = '';
	else if (nickPick === 1) deviceNickname = 'Work phone, "primary"';
	return {
		userId: u.userId,
		username,
		email: `${username}@example.com`,
		givenName: u.person.given,
		familyName: u.person.family,
		phone: deviceType === 'SMS' || deviceType === 'VOICE' ? `+1555${phoneDigits}` : '',
		deviceId,
		deviceType,
		deviceStatus,
		deviceNickname,
		mfaEnabled: u.mfa,
		createdAt: created,
	};
}

// ---------------------------------------------------------------- filter

export type FilterNode =
	| { op: 'eq' | 'ne'; field: FieldName; value: string }
	| { op: 'and' | 'or'; left: FilterNode; right: FilterNode };

export class FilterSyntaxError extends Error {}

/**
 * Parses filters like `(mfaEnabled eq "true")`, `deviceType eq "SMS" or (deviceStatus ne "ACTIVE")`.
 * Grammar: or := and ('or' and)* ; and := term ('and' term)* ; term := '(' or ')' | field op value.
 * Values: "double quoted" (with \" escapes) or a bare word (true, false, numbers).
 */
export function parseFilter(text: string): FilterNode {
	const tokens: string[] = [];
	const re = /\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|([^\s()"]+))/y;
	let pos = 0;
	const src = text.trim();
	while (pos < src.length) {
		re.lastIndex = pos;
		const m = re.exec(src);
		if (!m || m[0].length === 0) throw new FilterSyntaxError(`unexpected character at ${pos}`);
		tokens.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
		pos = re.lastIndex;
		while (pos < src.length && /\s/.test(src[pos])) pos++;
	}
	let k = 0;
	const peek = (): string | undefined => tokens[k];
	const take = (): string => {
		const t = tokens[k++];
		if (t === undefined) throw new FilterSyntaxError('unexpected end of filter');
		return t;
	};
	const parseOr = (): FilterNode => {
		let left = parseAnd();
		while (peek()?.toLowerCase() === 'or') {
			k++;
			left = { op: 'or', left, right: parseAnd() };
		}
		return left;
	};
	const parseAnd = (): FilterNode => {
		let left = parseTerm();
		while (peek()?.toLowerCase() === 'and') {
			k++;
			left = { op: 'and', left, right: parseTerm() };
		}
		return left;
	};
	const parseTerm = (): FilterNode => {
		const t = take();
		if (t === '(') {
			const inner = parseOr();
			if (take() !== ')') throw new FilterSyntaxError('missing )');
			return inner;
		}
		if (t === ')' || t.startsWith('"')) throw new FilterSyntaxError(`unexpected ${t}`);
		if (!isKnownField(t)) throw new FilterSyntaxError(`unknown attribute ${t}`);
		const op = take().toLowerCase();
		if (op !== 'eq' && op !== 'ne') throw new FilterSyntaxError(`unsupported operator ${op}`);
		const raw = take();
		if (raw === '(' || raw === ')') throw new FilterSyntaxError(`unexpected ${raw}`);
		const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
		return { op, field: t, value };
	};
	if (tokens.length === 0) throw new FilterSyntaxError('empty filter');
	const tree = parseOr();
	if (k !== tokens.length) throw new FilterSyntaxError(`unexpected ${tokens[k]}`);
	return tree;
}

export function matchesFilter(node: FilterNode | undefined, row: DeviceRow): boolean {
	if (!node) return true;
	switch (node.op) {
		case 'eq':
			return row[node.field] === node.value;
		case 'ne':
			return row[node.field] !== node.value;
		case 'and':
			return matchesFilter(node.left, row) && matchesFilter(node.right, row);
		case 'or':
			return matchesFilter(node.left, row) || matchesFilter(node.right, row);
	}
}

// ---------------------------------------------------------------- report rows and serialisation

export interface ReportShape {
	seed: number;
	population: number; // rows generated before filtering
	fields: FieldName[];
	filter?: FilterNode;
}

/** Projected, filtered rows of a report, in batches (memory stays flat for huge reports). */
export function* reportRowBatches(shape: ReportShape, batchSize = 2000): Generator<Record<string, string>[]> {
	let batch: Record<string, string>[] = [];
	for (let i = 0; i < shape.population; i++) {
		const full = deviceRow(shape.seed, i);
		if (!matchesFilter(shape.filter, full)) continue;
		const out: Record<string, string> = {};
		for (const f of shape.fields) out[f] = full[f];
		batch.push(out);
		if (batch.length >= batchSize) {
			yield batch;
			batch = [];
		}
	}
	if (batch.length > 0) yield batch;
}

export function csvCell(v: string): string {
	return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** RFC 4180: header row, CRLF after every record (including the last), quotes only where needed. */
export function* csvChunks(shape: ReportShape): Generator<string> {
	yield shape.fields.map(csvCell).join(',') + '\r\n';
	for (const batch of reportRowBatches(shape)) {
		let s = '';
		for (const row of batch) s += shape.fields.map((f) => csvCell(row[f])).join(',') + '\r\n';
		yield s;
	}
}

/** A top-level JSON array of objects, one object per line. */
export function* jsonChunks(shape: ReportShape): Generator<string> {
	let first = true;
	yield '[';
	for (const batch of reportRowBatches(shape)) {
		let s = '';
		for (const row of batch) {
			s += (first ? '\n' : ',\n') + JSON.stringify(row);
			first = false;
		}
		yield s;
	}
	yield first ? ']\n' : '\n]\n';
}
