// The relay runs without the operator: nothing under relay/ or shared/
// imports the operator or a Kubernetes client, and `turnrelay relay` loads
// (statically, from cli/relay.ts) only relay and shared modules. Read from the sources' import
// declarations with the TypeScript parser, so a new import that breaks the
// boundary fails here before it ships in the relay image.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../../..');

interface ModuleImport {
  specifier: string;
  dynamic: boolean;
  typeOnly: boolean;
}

function importsOf(file: string): ModuleImport[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const found: ModuleImport[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const typeOnly = ts.isImportDeclaration(node)
        ? node.importClause?.phaseModifier === ts.SyntaxKind.TypeKeyword
        : node.isTypeOnly;
      found.push({ specifier: node.moduleSpecifier.text, dynamic: false, typeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) found.push({ specifier: arg.text, dynamic: true, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** A relative `./x.js` specifier as the repository's .ts file; undefined for packages and node: builtins. */
function localFile(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(dirname(from), specifier.replace(/\.js$/, '.ts'));
  if (!existsSync(target)) throw new Error(`${relative(ROOT, from)} imports ${specifier}, which does not exist`);
  return target;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

const isOperator = (file: string) => relative(ROOT, file).startsWith('operator/');
const isKubernetesPackage = (specifier: string) => /^@kubernetes\/|^cdk8s|^constructs$/.test(specifier);

test('no module under relay/ or shared/ imports the operator or a Kubernetes library, not even for types', () => {
  const violations = [...sourceFiles('relay'), ...sourceFiles('shared')].flatMap((file) =>
    importsOf(file)
      .filter(
        ({ specifier }) =>
          isKubernetesPackage(specifier) ||
          (localFile(file, specifier) !== undefined && isOperator(localFile(file, specifier)!)),
      )
      .map(({ specifier }) => `${relative(ROOT, file)} → ${specifier}`),
  );
  expect(violations).toEqual([]);
});

test('`turnrelay relay` loads no operator module and no Kubernetes library', () => {
  const loaded = new Set<string>();
  const packages = new Set<string>();
  const pending = [join(ROOT, 'cli/relay.ts')];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (loaded.has(file)) continue;
    loaded.add(file);
    for (const { specifier, dynamic, typeOnly } of importsOf(file)) {
      if (dynamic || typeOnly) continue; // loaded only when that code path runs, or erased by the compiler
      const local = localFile(file, specifier);
      if (local) pending.push(local);
      else packages.add(specifier);
    }
  }
  const files = [...loaded].map((f) => relative(ROOT, f));
  // The walk really followed the relay's graph (a broken walk would pass vacuously).
  expect(files).toEqual(
    expect.arrayContaining(['cli/relay.ts', 'relay/main.ts', 'relay/server/turn-server.ts', 'shared/admin-server.ts']),
  );
  expect(files.filter((f) => !/^(cli\/relay\.ts$|relay\/|shared\/)/.test(f))).toEqual([]);
  expect([...packages].filter(isKubernetesPackage)).toEqual([]);
});
