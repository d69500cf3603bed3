// Real third-party code doing real work: the TypeScript compiler type-checks a
// small generated project in-process, then the heap is written to argv[2].
const v8 = require('v8');
const path = require('path');
const ts = require(path.join(__dirname, '..', 'node_modules', 'typescript'));

const files = {};
for (let i = 0; i < 4; i++) {
	files[`/proj/m${i}.ts`] = `
export interface Item${i} { id: number; name: string; tags: string[]; parent?: Item${i} }
export class Store${i}<T extends Item${i}> {
	private items = new Map<number, T>();
	add(x: T): void { this.items.set(x.id, x); }
	find(pred: (x: T) => boolean): T | undefined { for (const v of this.items.values()) if (pred(v)) return v; return undefined; }
}
export function make${i}(n: number): Item${i}[] { return Array.from({ length: n }, (_, k) => ({ id: k, name: 'n' + k, tags: [] })); }
${i > 0 ? `import { Store${i - 1}, make${i - 1} } from './m${i - 1}';\nexport const s${i} = new Store${i - 1}(); make${i - 1}(3).forEach(x => s${i}.add(x));` : ''}
`;
}
const host = ts.createCompilerHost({});
const read = host.readFile, exists = host.fileExists, getSource = host.getSourceFile;
host.readFile = (f) => files[f] ?? read(f);
host.fileExists = (f) => f in files || exists(f);
host.getSourceFile = (f, lang) => f in files ? ts.createSourceFile(f, files[f], lang) : getSource(f, lang);
const program = ts.createProgram(Object.keys(files), { strict: true, target: ts.ScriptTarget.ES2020, noEmit: true, noLib: true, types: [] }, host);
const diags = ts.getPreEmitDiagnostics(program);
console.error("tsc diagnostics:", diags.length);
globalThis.__keep = { program, checker: program.getTypeChecker(), diags };
v8.writeHeapSnapshot(process.argv[2]);
