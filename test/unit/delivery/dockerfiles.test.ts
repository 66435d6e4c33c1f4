// `docker build` is not available here, so the images' recipes are checked
// statically against the repository: every file a COPY needs is in the repo
// and in the build context, every npm script a RUN calls exists, the runtime
// target of each image runs the built CLI as a numeric non-root user on
// Node 24 with its own command. The production install itself is
// exercised in package-install.test.ts.
import dockerignoreModule from '@balena/dockerignore';
import { DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../../scripts/delivery/helm.js';
import { NET_BIND_LAUNCHER, RELAY_ENTRY_SCRIPT } from '../../../operator/render/low-ports.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  license: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const buildTsconfig = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
  compilerOptions: { outDir: string };
  include: string[];
};
// A CommonJS module whose typings declare an ES default export: at run time the
// default import is the factory itself.
type IgnoreFactory = typeof dockerignoreModule.default;
const ignore: IgnoreFactory =
  typeof dockerignoreModule === 'function' ? dockerignoreModule : dockerignoreModule.default;
const dockerignore = ignore().add(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));

type Stage = { name: string; image: string; instructions: Instruction[] };

const FILE = 'relay/Dockerfile';
const NATIVE_ADDON = 'build/native/turnrelay_dataplane.node';
const LAUNCHER = 'build/launcher/turnrelay-net-bind';
const IMAGES = [
  { target: 'relay', command: 'relay' },
  { target: 'operator', command: 'operator' },
];

function parse(file: string): Dockerfile {
  return DockerfileParser.parse(readFileSync(join(REPO_ROOT, file), 'utf8'));
}

/** Stages with ${ARG} references in FROM resolved from the global ARG defaults. */
function stages(dockerfile: Dockerfile): Stage[] {
  const globals = new Map<string, string>();
  const out: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const args = instruction.getArguments().map((a) => a.getValue());
    if (keyword === 'FROM') {
      const image = args[0]!.replace(/\$\{(\w+)\}/g, (_, name: string) => globals.get(name) ?? `<unset ${name}>`);
      const name = args[1]?.toUpperCase() === 'AS' ? args[2]! : `stage-${out.length}`;
      out.push({ name, image, instructions: [] });
    } else if (out.length === 0 && keyword === 'ARG') {
      const [name, value = ''] = args[0]!.split('=');
      globals.set(name!, value);
    } else {
      out.at(-1)?.instructions.push(instruction);
    }
  }
  return out;
}

const keywordArgs = (stage: Stage, keyword: string): string[][] =>
  stage.instructions.filter((i) => i.getKeyword() === keyword).map((i) => i.getArguments().map((a) => a.getValue()));

function filesUnder(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(join(REPO_ROOT, f)).isFile());
}

/** A target stage merged with the stages it is built FROM, base first. */
function targetChain(all: Stage[], target: string): Stage {
  const chain: Stage[] = [];
  for (let stage = all.find((s) => s.name === target); stage; stage = all.find((s) => s.name === stage.image))
    chain.unshift(stage);
  return { name: target, image: chain[0]!.image, instructions: chain.flatMap((s) => s.instructions) };
}

const dockerfile = parse(FILE);
const all = stages(dockerfile);
const buildStages = all.filter((s) => s.image.startsWith('node:'));

test(`${FILE} builds the relay by default: its last stage is the relay target`, () => {
  expect(all.at(-1)!.name).toBe('relay');
});

describe(FILE, () => {
  test('every COPY from the build context exists in the repository and is not excluded by .dockerignore', () => {
    const sources = dockerfile
      .getCOPYs()
      .filter((copy) => !copy.getFlags().some((flag) => flag.getName() === 'from'))
      .flatMap((copy) =>
        copy
          .getArguments()
          .slice(0, -1)
          .map((a) => a.getValue()),
      );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, exists: existsSync(join(REPO_ROOT, source)) }).toEqual({ source, exists: true });
      const files = statSync(join(REPO_ROOT, source)).isDirectory() ? filesUnder(source) : [source];
      const sent = files.filter((f) => !dockerignore.ignores(relative('.', f)));
      const typescript = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
      // Every TypeScript source of a copied folder reaches the build.
      expect({ source, missing: typescript.filter((f) => !sent.includes(f)) }).toEqual({ source, missing: [] });
      expect({ source, sent: sent.length > 0 }).toEqual({ source, sent: true });
    }
  });

  test('the build stage copies everything the build tsconfig compiles', () => {
    const build = all.find((s) => keywordArgs(s, 'RUN').some((args) => args.join(' ') === 'npm run build'))!;
    const copied = keywordArgs(build, 'COPY').flatMap((args) => args.slice(0, -1));
    for (const input of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      ...buildTsconfig.include,
    ]) {
      expect({ input, copied: copied.includes(input) }).toEqual({ input, copied: true });
    }
  });

  test('RUN steps call npm scripts that exist, and npm ci has the lockfile', () => {
    for (const stage of buildStages) {
      let copied: string[] = [];
      for (const instruction of stage.instructions) {
        const args = instruction.getArguments().map((a) => a.getValue());
        if (instruction.getKeyword() === 'COPY') copied = copied.concat(args.slice(0, -1));
        if (instruction.getKeyword() !== 'RUN') continue;
        const text = instruction.getArgumentsContent() ?? '';
        for (const [, script] of text.matchAll(/npm run ([\w:-]+)/g))
          expect(Object.keys(pkg.scripts)).toContain(script);
        if (/npm ci\b/.test(text))
          expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
      }
    }
  });

  test('COPY --from takes what the earlier stage produced', () => {
    const workdirs = new Map(all.map((s) => [s.name, keywordArgs(s, 'WORKDIR').at(-1)?.[0]]));
    const outDir = buildTsconfig.compilerOptions.outDir;
    for (const copy of dockerfile.getCOPYs()) {
      const from = copy
        .getFlags()
        .find((flag) => flag.getName() === 'from')
        ?.getValue();
      if (!from) continue;
      const [source] = copy.getArguments().map((a) => a.getValue());
      expect(workdirs.has(from)).toBe(true);
      expect(source!.startsWith(`${workdirs.get(from)}/`)).toBe(true);
      // The artefacts: the tsc output dir, the production node_modules, the native data plane, the launcher.
      expect([
        `${workdirs.get(from)}/${outDir}`,
        `${workdirs.get(from)}/node_modules`,
        `${workdirs.get(from)}/${NATIVE_ADDON}`,
        `${workdirs.get(from)}/${LAUNCHER}`,
      ]).toContain(source);
    }
  });
});

describe(`${FILE}: the native data plane`, () => {
  const build = all.find((s) => keywordArgs(s, 'RUN').some((args) => args.join(' ') === 'npm run build:native'));
  const runText = (stage: Stage) => keywordArgs(stage, 'RUN').map((args) => args.join(' '));

  test('is compiled in the build stage, after its sources and build script are copied, with build-essential from apt', () => {
    expect(build).toBeDefined();
    const steps = build!.instructions.map(
      (i) =>
        `${i.getKeyword()} ${i
          .getArguments()
          .map((a) => a.getValue())
          .join(' ')}`,
    );
    const at = (pattern: RegExp) => steps.findIndex((s) => pattern.test(s));
    const apt = at(/^RUN apt-get update && apt-get install -y --no-install-recommends .*\bbuild-essential\b/);
    expect(apt).toBeGreaterThanOrEqual(0);
    expect(at(/^COPY relay /)).toBeGreaterThan(apt);
    expect(at(/^COPY scripts\/build-native\.sh /)).toBeGreaterThan(apt);
    expect(at(/^RUN npm run build:native$/)).toBeGreaterThan(
      Math.max(at(/^COPY relay /), at(/^COPY scripts\/build-native\.sh /), at(/^RUN npm ci/)),
    );
    expect(pkg.scripts['build:native']).toBe('bash scripts/build-native.sh');
    // The script writes the file the runtime copies.
    expect(readFileSync(join(REPO_ROOT, 'scripts/build-native.sh'), 'utf8')).toMatch(
      /out=build\/native\n[\s\S]*target="\$out\/turnrelay_dataplane\.node"/,
    );
  });

  test('build-essential is installed nowhere else', () => {
    for (const stage of all.filter((s) => s !== build)) {
      expect({ stage: stage.name, apt: runText(stage).filter((t) => /apt-get|build-essential|g\+\+/.test(t)) }).toEqual(
        { stage: stage.name, apt: [] },
      );
    }
  });

  test.each(IMAGES)(
    'the $target image carries the compiled addon where the relay looks for it, and nothing else changes',
    ({ target }) => {
      const runtime = targetChain(all, target);
      const copies = keywordArgs(runtime, 'COPY');
      expect(copies).toContainEqual([`/src/${NATIVE_ADDON}`, `./${NATIVE_ADDON}`]);
      expect(keywordArgs(runtime, 'WORKDIR').at(-1)).toEqual(['/app']);
      // nativeAddonPath(): build/native/ next to the package.json the runtime also copies.
      expect(copies).toContainEqual(['package.json', './']);
      expect(readFileSync(join(REPO_ROOT, 'relay/dataplane/native/native-addon.ts'), 'utf8')).toContain(
        "join(dir, 'build', 'native', 'turnrelay_dataplane.node')",
      );
    },
  );

  test('its C++ sources and build script reach the build context', () => {
    const sources = filesUnder('relay/dataplane/native/src');
    expect(sources.filter((f) => /\.(cc|h)$/.test(f)).length).toBeGreaterThan(0);
    for (const f of [...sources, 'scripts/build-native.sh'])
      expect({ f, sent: !dockerignore.ignores(f) }).toEqual({ f, sent: true });
  });
});

describe(`${FILE}: the low-port launcher`, () => {
  const build = all.find((s) => keywordArgs(s, 'RUN').some((args) => args.join(' ') === 'npm run build:native'))!;

  test('is compiled from relay/launcher in the build stage and given only the NET_BIND_SERVICE file capability', () => {
    const run = keywordArgs(build, 'RUN').map((args) => args.join(' '));
    const step = run.find((text) => text.includes(LAUNCHER))!;
    expect(step).toMatch(new RegExp(`gcc .*-o ${LAUNCHER} relay/launcher/net-bind\\.c`));
    expect(step).toMatch(new RegExp(`setcap cap_net_bind_service=ep ${LAUNCHER}$`));
    expect(run[0]).toMatch(/apt-get install .*\blibcap2-bin\b/);
    expect(existsSync(join(REPO_ROOT, 'relay/launcher/net-bind.c'))).toBe(true);
  });

  test('only the relay image carries it, at the path the operator renders, in front of the entry script', () => {
    expect(keywordArgs(targetChain(all, 'relay'), 'COPY')).toContainEqual([`/src/${LAUNCHER}`, `./${LAUNCHER}`]);
    expect(keywordArgs(targetChain(all, 'operator'), 'COPY').flat().join(' ')).not.toContain(LAUNCHER);
    expect(NET_BIND_LAUNCHER).toBe(`/app/${LAUNCHER}`);
    expect(RELAY_ENTRY_SCRIPT).toBe(`/app/${pkg.bin['turnrelay']}`);
    // It execs the runtime's Node, the ENTRYPOINT's first word.
    expect(readFileSync(join(REPO_ROOT, 'relay/launcher/net-bind.c'), 'utf8')).toContain(
      '#define NODE_BINARY "/nodejs/bin/node"',
    );
  });
});

describe.each(IMAGES)(`${FILE} --target $target`, ({ target, command }) => {
  const runtime = targetChain(all, target);

  test('builds on Node 24 and runs on a Node 24 distroless image', () => {
    expect(buildStages.length).toBeGreaterThan(0);
    for (const stage of buildStages) expect(stage.image).toMatch(/^node:24-/);
    expect(runtime.image).toMatch(/^gcr\.io\/distroless\/nodejs24-/);
  });

  test('the runtime stage runs the built CLI entry as numeric non-root user 10001', () => {
    expect(keywordArgs(runtime, 'RUN')).toEqual([]); // distroless: no shell
    expect(keywordArgs(runtime, 'USER')).toEqual([['10001:10001']]);
    const entrypoint = JSON.parse(
      runtime.instructions.find((i) => i.getKeyword() === 'ENTRYPOINT')!.getArgumentsContent()!,
    ) as string[];
    const cmd = JSON.parse(
      runtime.instructions.find((i) => i.getKeyword() === 'CMD')!.getArgumentsContent()!,
    ) as string[];
    expect(entrypoint).toEqual(['/nodejs/bin/node', `/app/${pkg.bin['turnrelay']}`]);
    expect(cmd).toEqual([command]);
    // dist/cli/turnrelay.js is what tsc emits for cli/turnrelay.ts with the build tsconfig.
    expect(pkg.bin['turnrelay']).toBe(`${buildTsconfig.compilerOptions.outDir}/cli/turnrelay.js`);
    expect(buildTsconfig.include).toContain('cli');
  });

  test('carries OCI labels for source, version and licenses', () => {
    const text = keywordArgs(runtime, 'LABEL').flat().join(' ');
    const labels = Object.fromEntries(
      Array.from(text.matchAll(/([\w.]+)="([^"]*)"/g), ([, key, value]) => [key!, value!]),
    );
    expect(labels['org.opencontainers.image.source']).toBe('${SOURCE}');
    expect(labels['org.opencontainers.image.version']).toBe('${VERSION}');
    expect(labels['org.opencontainers.image.revision']).toBe('${REVISION}');
    expect(labels['org.opencontainers.image.licenses']).toBe(pkg.license);
    expect(labels['org.opencontainers.image.title']).toBe(`turnrelay-${target}`);
  });
});
