import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Stream } from 'node:stream';
import { readRows, RowParseError, type Row } from '../../nodes/PingOneReports/lib/rows';

async function* chunksOf(...parts: Array<string | Buffer>): AsyncGenerator<Buffer> {
	for (const p of parts) yield typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

/** every way to cut `input` into two chunks, plus one byte per chunk */
function splits(input: string): Buffer[][] {
	const buf = Buffer.from(input, 'utf8');
	const out: Buffer[][] = [];
	for (let i = 0; i <= buf.length; i++) out.push([buf.subarray(0, i), buf.subarray(i)]);
	out.push([...buf].map((b) => Buffer.from([b])));
	return out;
}

async function rowsOf(format: 'csv' | 'json', input: string | Buffer[]): Promise<Row[]> {
	const parts = typeof input === 'string' ? [input] : input;
	return (await readRows(chunksOf(...parts), format)).rows;
}

async function parseError(format: 'csv' | 'json', input: string): Promise<RowParseError> {
	try {
		await rowsOf(format, input);
	} catch (error) {
		assert.ok(error instanceof RowParseError, `expected RowParseError, got ${String(error)}`);
		return error;
	}
	assert.fail('expected a RowParseError');
}

describe('readRows csv', () => {
	test('header row, values stay strings, LF and no final newline', async () => {
		assert.deepEqual(await rowsOf('csv', 'a,b\n1,true\n2,3'), [
			{ a: '1', b: 'true' },
			{ a: '2', b: '3' },
		]);
	});

	test('RFC 4180 quoting: "" escapes, commas and CRLF inside quotes, CRLF lines', async () => {
		assert.deepEqual(await rowsOf('csv', 'a,b,c\r\n1,"x, ""y""\r\nz",3\r\n"","",""\r\n'), [
			{ a: '1', b: 'x, "y"\r\nz', c: '3' },
			{ a: '', b: '', c: '' },
		]);
	});

	test('UTF-8 BOM is stripped; mixed CRLF and LF', async () => {
		assert.deepEqual(await rowsOf('csv', '\ufeffid,name\r\n1,a\n2,b\r\n'), [
			{ id: '1', name: 'a' },
			{ id: '2', name: 'b' },
		]);
	});

	test('empty file, BOM only, header only → zero rows', async () => {
		assert.deepEqual(await rowsOf('csv', ''), []);
		assert.deepEqual(await rowsOf('csv', '\ufeff'), []);
		assert.deepEqual(await rowsOf('csv', 'a,b'), []);
		assert.deepEqual(await rowsOf('csv', 'a,b\r\n'), []);
		const result = await readRows(chunksOf(), 'csv');
		assert.deepEqual(result, { rows: [], totalRows: 0, truncated: false });
	});

	test('blank lines are skipped; a line of "" is a record', async () => {
		assert.deepEqual(await rowsOf('csv', 'a,b\n\n1,2\r\n\r\n""\n'), [
			{ a: '1', b: '2' },
			{ a: '', b: '' },
		]);
	});

	test('fewer fields → "", trailing separator → empty last field', async () => {
		assert.deepEqual(await rowsOf('csv', 'a,b,c\n1\n1,2,\n1,'), [
			{ a: '1', b: '', c: '' },
			{ a: '1', b: '2', c: '' },
			{ a: '1', b: '', c: '' },
		]);
	});

	test('more fields than the header → RowParseError naming the line', async () => {
		const error = await parseError('csv', 'a,b\n1,2\n"x\ny",2\n1,2,3\n');
		assert.equal(error.line, 5);
		assert.equal(error.message, 'CSV: the record on line 5 has more fields than the header (2)');
		const quoted = await parseError('csv', 'a,b\n"1","2","3"\n');
		assert.equal(quoted.line, 2);
	});

	test('empty and duplicate header names', async () => {
		assert.deepEqual(await rowsOf('csv', 'a,,a,a_2,\n1,2,3,4,5\n'), [
			{ a: '1', column_2: '2', a_3: '3', a_2: '4', column_5: '5' },
		]);
	});

	test('__proto__ header is a plain own property', async () => {
		const [row] = await rowsOf('csv', '__proto__,b\nx,y\n');
		assert.equal(Object.getPrototypeOf(row), Object.prototype);
		assert.deepEqual(Object.keys(row), ['__proto__', 'b']);
		assert.equal(row['__proto__' as keyof typeof row], 'x');
	});

	test('quoted header with an embedded newline; quote inside an unquoted field is literal', async () => {
		assert.deepEqual(await rowsOf('csv', '"h\n1",h2\n5 "in",x\n'), [{ 'h\n1': '5 "in"', h2: 'x' }]);
	});

	test('unclosed quote → RowParseError naming the line where it opened', async () => {
		const error = await parseError('csv', 'a,b\n1,2\n3,"open\nstill\n');
		assert.equal(error.message, 'CSV: unclosed quote starting on line 3');
		assert.equal(error.line, 3);
		const later = await parseError('csv', 'a,b\n"x\n\ny",1\n2,"\n');
		assert.equal(later.line, 5);
	});

	test('text after a closing quote → RowParseError with line', async () => {
		const error = await parseError('csv', 'a,b\n1,"x"y\n');
		assert.equal(error.line, 2);
		assert.match(error.message, /after a closing quote on line 2/);
	});

	test('every split point of a tricky CSV gives the same rows', async () => {
		const input = '\ufeff"h,1",h2,h3\r\n"a""b","x\r\ny",日本\r\n,"",""""\n€,"é\n",z';
		const expected = [
			{ 'h,1': 'a"b', h2: 'x\r\ny', h3: '日本' },
			{ 'h,1': '', h2: '', h3: '"' },
			{ 'h,1': '€', h2: 'é\n', h3: 'z' },
		];
		for (const parts of splits(input)) {
			assert.deepEqual(await rowsOf('csv', parts), expected, `split ${parts[0].length}/${parts.length}`);
		}
	});

	test('every split point: unclosed-quote error line is stable', async () => {
		for (const parts of splits('a\r\n"1\r\n2')) {
			await assert.rejects(
				readRows(chunksOf(...parts), 'csv'),
				(e: RowParseError) => e instanceof RowParseError && e.line === 2,
			);
		}
	});

	test('long quoted field spanning many chunks', async () => {
		const big = 'x'.repeat(300_000) + '""' + '\n'.repeat(3);
		const input = `a,b\n"${big}",2\n3,4\n`;
		const buf = Buffer.from(input);
		const parts: Buffer[] = [];
		for (let i = 0; i < buf.length; i += 1000) parts.push(buf.subarray(i, i + 1000));
		assert.deepEqual(await rowsOf('csv', parts), [
			{ a: 'x'.repeat(300_000) + '"' + '\n'.repeat(3), b: '2' },
			{ a: '3', b: '4' },
		]);
	});
});

describe('readRows json', () => {
	test('top-level array of objects', async () => {
		assert.deepEqual(await rowsOf('json', ' [ {"a":1,"b":"x"} , {"a":2,"n":{"k":[1,"]"]}} ]\n'), [
			{ a: 1, b: 'x' },
			{ a: 2, n: { k: [1, ']'] } },
		]);
		assert.deepEqual(await rowsOf('json', '[]'), []);
	});

	test('NDJSON with blank lines and CRLF', async () => {
		assert.deepEqual(await rowsOf('json', '{"a":1,"t":[{"x":1}]}\r\n\r\n{"a":"}\\"{"}\n\n'), [
			{ a: 1, t: [{ x: 1 }] },
			{ a: '}"{' },
		]);
	});

	test('object holding exactly one array of objects, direct or one level deeper', async () => {
		assert.deepEqual(await rowsOf('json', '{"count":2,"devices":[{"a":1},{"a":2}],"tags":["x"]}'), [
			{ a: 1 },
			{ a: 2 },
		]);
		assert.deepEqual(
			await rowsOf('json', '{\n "_links": {"self": {"href": "h"}},\n "_embedded": {"devices": [\n  {"a": 1}\n ]},\n "size": 1\n}\n'),
			[{ a: 1 }],
		);
		assert.deepEqual(await rowsOf('json', '{"devices":[], "size": 0}'), []);
	});

	test('a lone object without arrays of objects is one row; empty input is zero rows', async () => {
		assert.deepEqual(await rowsOf('json', '{"a":[1,2],"b":null}'), [{ a: [1, 2], b: null }]);
		assert.deepEqual(await rowsOf('json', ''), []);
		assert.deepEqual(await rowsOf('json', '\ufeff \n'), []);
	});

	test('two arrays of objects in a wrapper → error naming both', async () => {
		const error = await parseError('json', '{"a":[{"x":1}],"b":{"c":[{"y":2}]}}');
		assert.equal(error.message, 'JSON: the top-level object holds 2 arrays of objects (a, b.c); expected exactly one');
	});

	test('non-object elements → error naming the index or line', async () => {
		const e1 = await parseError('json', '[{"a":1},\n 2]');
		assert.equal(e1.message, 'JSON: element 1 is a number, not an object (line 2, column 2)');
		const e2 = await parseError('json', '[{"a":1},"s"]');
		assert.match(e2.message, /^JSON: element 1 is a string, not an object/);
		const e3 = await parseError('json', '{"a":1}\n[1]\n');
		assert.equal(e3.message, 'JSON: the value on line 2 is an array, not an object (line 2, column 1)');
	});

	test('malformed JSON → RowParseError with line and column', async () => {
		const e1 = await parseError('json', '[\n{"a":1},\n{"a" 2}\n]');
		assert.equal(e1.line, 3);
		assert.equal(e1.position, 6);
		assert.match(e1.message, /^JSON: invalid JSON \(.+\) at line 3, column 6$/);
		const e2 = await parseError('json', '[{"a":1}\n{"b":2}]');
		assert.equal(e2.message, 'JSON: missing "," between elements at line 2, column 1');
		const e3 = await parseError('json', '[{"a":1},]');
		assert.match(e3.message, /trailing ","/);
		const e4 = await parseError('json', '[{"a":"unclosed}]');
		assert.match(e4.message, /unexpected end of input/);
		const e5 = await parseError('json', '[{"a":1}] x');
		assert.match(e5.message, /after the top-level array at line 1, column 11/);
		const e6 = await parseError('json', '{"a":[{"x":1}] "b":2}');
		assert.match(e6.message, /not valid JSON outside its rows/);
		const e7 = await parseError('json', 'nope');
		assert.equal(e7.line, 1);
	});

	test('every split point of tricky JSON gives the same rows', async () => {
		const arr = '\ufeff[{"k":"a\\"]}\\\\","€":"日本"},\r\n {"n":[{"x":"{"}],"e":"\\u00e9"}]';
		const expectedArr = [
			{ k: 'a"]}\\', '€': '日本' },
			{ n: [{ x: '{' }], e: 'é' },
		];
		for (const parts of splits(arr)) assert.deepEqual(await rowsOf('json', parts), expectedArr);

		const nd = '{"a":"\\\\"}\n\n{"b":"€\\""}\n';
		for (const parts of splits(nd)) assert.deepEqual(await rowsOf('json', parts), [{ a: '\\' }, { b: '€"' }]);

		const wrap = '{"x":{"y":"]"},"_embedded":{"d":[{"a":"}"},{"b":[]}]}}';
		for (const parts of splits(wrap)) assert.deepEqual(await rowsOf('json', parts), [{ a: '}' }, { b: [] }]);
	});
});

describe('readRows options and sources', () => {
	test('maxRows keeps the first rows, counts all, and drains the source', async () => {
		let pulled = 0;
		async function* source() {
			yield Buffer.from('a\n1\n2\n');
			pulled++;
			yield Buffer.from('3\n4\n');
			pulled++;
			yield Buffer.from('5\n');
			pulled++;
		}
		const result = await readRows(source(), 'csv', { maxRows: 2 });
		assert.deepEqual(result, { rows: [{ a: '1' }, { a: '2' }], totalRows: 5, truncated: true });
		assert.equal(pulled, 3);

		const json = await readRows(chunksOf('{"d":[{"a":1},{"a":2},{"a":3}]}'), 'json', { maxRows: 1 });
		assert.deepEqual(json, { rows: [{ a: 1 }], totalRows: 3, truncated: true });
		const nd = await readRows(chunksOf('{"a":1}\n{"a":2}\n'), 'json', { maxRows: 5 });
		assert.deepEqual(nd, { rows: [{ a: 1 }, { a: 2 }], totalRows: 2, truncated: false });
		const zero = await readRows(chunksOf('[{"a":1},{"a":2}]'), 'json', { maxRows: 0 });
		assert.equal(zero.rows.length, 2);
	});

	test("a source error rejects with that same error", async () => {
		const boom = new Error('CRC-32 mismatch');
		async function* failing() {
			yield Buffer.from('a,b\n1,2\n');
			throw boom;
		}
		await assert.rejects(readRows(failing(), 'csv'), (e) => e === boom);
		const stream = new PassThrough();
		const pending = readRows(stream, 'json');
		stream.write('[{"a":1}');
		stream.destroy(boom);
		await assert.rejects(pending, (e) => e === boom);
	});

	test('the source error wins over a parse error found earlier', async () => {
		const boom = new Error('bad HMAC');
		async function* failing() {
			yield Buffer.from('a,b\n"1,2\n');
			yield Buffer.from('x"y\n');
			throw boom;
		}
		await assert.rejects(readRows(failing(), 'csv'), (e) => e === boom);
	});

	test('Node Readable streams, including old-style ones', async () => {
		assert.deepEqual((await readRows(Readable.from([Buffer.from('a\n'), Buffer.from('1\n')]), 'csv')).rows, [
			{ a: '1' },
		]);
		const oldStyle = new Stream() as Stream & { readable: boolean };
		oldStyle.readable = true;
		(oldStyle as unknown as { pause(): void; resume(): void }).pause = () => undefined;
		(oldStyle as unknown as { pause(): void; resume(): void }).resume = () => undefined;
		const pending = readRows(oldStyle as unknown as NodeJS.ReadableStream, 'csv');
		setImmediate(() => {
			oldStyle.emit('data', Buffer.from('a\n2'));
			oldStyle.emit('data', Buffer.from('\n'));
			oldStyle.emit('end');
		});
		assert.deepEqual((await pending).rows, [{ a: '2' }]);
	});
});
