// The TurnRelay API against the real kube-apiserver: the committed CRD is
// accepted and served; every sample is admitted and defaulted exactly as the
// operator's zod schema defaults it; invalid specs are refused by the schema
// or CEL with the field named; and every child rendered for every sample is
// accepted by a server-side dry-run apply (pods also pass the "restricted"
// Pod Security profile, except HostNetwork pods, which it forbids by design).
//
// The Certificate child needs cert-manager's CRD: a minimal fixture of
// certificates.cert-manager.io/v1 (schema-less spec) is installed here,
// not cert-manager itself.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
  type V1CustomResourceDefinition,
  type V1Deployment,
} from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { CRD_FILE } from '../../operator/api/crd-yaml.js';
import { API_GROUP, API_VERSION, PLURAL } from '../../operator/api/turnrelay.js';
import { validateTurnRelay } from '../../operator/api/validate.js';
import { planAuthSecret } from '../../operator/render/auth-secret.js';
import { renderRelay } from '../../operator/render/index.js';
import { FIELD_MANAGER, authSecretNameFor } from '../../operator/render/names.js';
import { INVALID_SPECS } from '../unit/operator/support/invalid-specs.js';
import { loadSamples } from '../unit/operator/support/samples.js';
import { buildControlPlane } from './harness/binaries.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, testKubeconfigPath } from './harness/cluster.js';
import { schemalessCrd, waitFor } from './operator-fixtures.js';

const kc = testKubeConfig();
const extensions = kc.makeApiClient(ApiextensionsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const core = kc.makeApiClient(CoreV1Api);
const objects = KubernetesObjectApi.makeApiClient(kc);
const TEST_MANAGER = 'turnrelay-api-schema-test';
const samples = loadSamples();

const CERTIFICATE_CRD = schemalessCrd('cert-manager.io', 'Certificate', 'certificates');

const run = promisify(execFile);
let kubectlPath: string | undefined;
async function kubectl(args: string[], input?: string): Promise<string> {
  kubectlPath ??= join(await buildControlPlane({ quiet: true }), 'kubectl');
  const child = run(kubectlPath, ['--kubeconfig', testKubeconfigPath(), ...args]);
  if (input !== undefined) child.child.stdin!.end(input);
  return (await child).stdout;
}

// kubectl, as users install it: the typed client's CRD model would drop the
// raw x-kubernetes-* keys of a YAML-parsed object.
async function installCrd(yamlText: string, name: string): Promise<void> {
  await kubectl(
    ['apply', '--server-side', '--force-conflicts', `--field-manager=${TEST_MANAGER}`, '-f', '-'],
    yamlText,
  );
  await waitFor(
    `${name} to be Established`,
    async () => {
      const current = await extensions.readCustomResourceDefinition({ name });
      return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    30_000,
  );
}

const errorText = (error: unknown) =>
  error instanceof ApiException ? `${error.code} ${String(error.body)}` : String(error);

function turnRelay(name: string, spec: unknown) {
  return { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'TurnRelay', metadata: { name }, spec };
}

async function createRelay(
  namespace: string,
  body: object,
  fieldValidation?: string,
): Promise<Record<string, unknown>> {
  return (await custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace,
    plural: PLURAL,
    body,
    ...(fieldValidation ? { fieldValidation } : {}),
  })) as Record<string, unknown>;
}

async function refusal(namespace: string, body: object, fieldValidation?: string): Promise<string> {
  try {
    await createRelay(namespace, body, fieldValidation);
  } catch (error) {
    // 422: schema or CEL; 400: strict decoding of unknown fields.
    if (error instanceof ApiException && (error.code === 422 || error.code === 400)) return String(error.body);
    throw new Error(`expected a refusal, got ${errorText(error)}`, { cause: error });
  }
  throw new Error(`the API server accepted ${JSON.stringify(body)}`);
}

async function dryRunApply(object: KubernetesObject): Promise<void> {
  try {
    await objects.patch(structuredClone(object), undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  } catch (error) {
    throw new Error(`${object.kind} ${object.metadata?.name} was refused: ${errorText(error)}`, { cause: error });
  }
}

let namespace: string;

beforeAll(async () => {
  const crdText = readFileSync(join(process.cwd(), CRD_FILE), 'utf8');
  await installCrd(crdText, (parse(crdText) as V1CustomResourceDefinition).metadata!.name!);
  await installCrd(stringify(CERTIFICATE_CRD), CERTIFICATE_CRD.metadata!.name!);
  namespace = await createTestNamespace('api-schema');
  // A freshly established CRD can take a moment to be served.
  await waitFor(
    'TurnRelays to be served',
    async () => {
      await custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: PLURAL });
      return true;
    },
    30_000,
  );
}, 120_000);

afterAll(async () => {
  if (namespace) await deleteTestNamespace(namespace);
});

describe('the TurnRelay CRD on a real API server', () => {
  test.each(samples.map((s) => [s.file, s.manifest]))(
    'admits sample %s and defaults it exactly like the zod schema',
    async (_file, manifest) => {
      const created = await createRelay(namespace, manifest);
      const zod = validateTurnRelay({ ...manifest, metadata: { ...manifest.metadata, namespace } });
      if (!zod.ok) throw new Error(JSON.stringify(zod.issues));
      expect(created['spec']).toEqual(JSON.parse(JSON.stringify(zod.relay.spec)));
      // And the defaulted object the server returns is valid for the operator.
      expect(validateTurnRelay(created).ok).toBe(true);
    },
  );

  test('defaults an empty spec the same way as the zod schema', async () => {
    const created = await createRelay(namespace, turnRelay('defaults', {}));
    const zod = validateTurnRelay({ ...turnRelay('defaults', {}), metadata: { name: 'defaults', namespace } });
    if (!zod.ok) throw new Error(JSON.stringify(zod.issues));
    expect(created['spec']).toEqual(JSON.parse(JSON.stringify(zod.relay.spec)));
  });

  test.each(INVALID_SPECS.map((c) => [c.name, c]))('refuses %s, naming the field', async (_name, c) => {
    const body = await refusal(namespace, turnRelay('invalid', c.spec));
    expect(body).toContain(c.field);
    expect(body).toMatch(c.message);
  });

  test('refuses unknown fields when asked to validate strictly', async () => {
    const body = await refusal(namespace, turnRelay('typo', { listners: [] }), 'Strict');
    expect(body).toContain('spec.listners');
  });

  test('refuses names its children could not carry', async () => {
    const body = await refusal(namespace, turnRelay('a'.repeat(53), {}));
    expect(body).toMatch(/metadata\.name must start with a letter/);
  });

  test('scale subresource reads spec.replicas and the status selector', async () => {
    await createRelay(namespace, turnRelay('scaled', { replicas: 3 }));
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: API_GROUP,
        version: API_VERSION,
        namespace,
        plural: PLURAL,
        name: 'scaled',
        body: {
          status: { replicas: 2, selector: 'app.kubernetes.io/name=turnrelay,app.kubernetes.io/instance=scaled' },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const scale = (await custom.getNamespacedCustomObjectScale({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: PLURAL,
      name: 'scaled',
    })) as Record<string, unknown>;
    expect(scale['spec']).toEqual({ replicas: 3 });
    expect(scale['status']).toEqual({
      replicas: 2,
      selector: 'app.kubernetes.io/name=turnrelay,app.kubernetes.io/instance=scaled',
    });
  });

  test('kubectl explain documents the fields', async () => {
    const explain = await waitFor(
      'kubectl explain to see the CRD',
      () => kubectl(['explain', 'turnrelays.spec.auth.rotationInterval']),
      30_000,
    );
    expect(explain).toContain('How often a new shared secret is added');
  });
});

describe('rendered children on a real API server', () => {
  const observed = {
    serviceIngress: ['203.0.113.7'],
    nodeAddresses: ['198.51.100.10'],
    allowedServiceIPs: ['10.96.0.50'],
    certManager: true,
  };

  test.each(samples.map((s) => [s.file, s.manifest]))(
    '%s: every child passes a server-side dry-run apply',
    async (file, manifest) => {
      const name = `dry-${file.replace(/\.yaml$/, '').slice(0, 30)}`;
      const created = await createRelay(namespace, { ...manifest, metadata: { name } });
      const valid = validateTurnRelay(created);
      if (!valid.ok) throw new Error(JSON.stringify(valid.issues));
      const relay = valid.relay;
      const rendered = renderRelay({
        relay,
        image: 'turnrelay:test',
        authSecretName: authSecretNameFor(relay),
        observed,
      });
      expect(rendered.objects.length).toBeGreaterThanOrEqual(6);
      for (const object of rendered.objects) await dryRunApply(object);
      const secret = planAuthSecret(undefined, relay, Date.now(), () => 'c2VjcmV0').secret!;
      await core.createNamespacedSecret({ namespace, body: secret, dryRun: 'All' });
    },
  );

  test('relay pods meet the restricted Pod Security profile (LoadBalancer mode)', async () => {
    const restricted = await createTestNamespace('api-schema-restricted');
    try {
      await objects.patch(
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: restricted, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
        },
        undefined,
        undefined,
        TEST_MANAGER,
        undefined,
        PatchStrategy.MergePatch,
      );
      for (const { manifest } of samples.filter((s) => s.manifest.spec.network?.mode !== 'HostNetwork')) {
        const created = await createRelay(restricted, manifest);
        const valid = validateTurnRelay(created);
        if (!valid.ok) throw new Error(JSON.stringify(valid.issues));
        const rendered = renderRelay({ relay: valid.relay, image: 'turnrelay:test', authSecretName: 'auth', observed });
        const serviceAccount = rendered.objects.find((o) => o.kind === 'ServiceAccount')!;
        await objects.patch(
          structuredClone(serviceAccount),
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          PatchStrategy.ServerSideApply,
        );
        const template = (rendered.objects.find((o) => o.kind === 'Deployment') as V1Deployment).spec!.template;
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `${valid.relay.metadata.name}-pod`, labels: template.metadata!.labels! },
          spec: template.spec!,
        };
        try {
          await core.createNamespacedPod({ namespace: restricted, body: pod, dryRun: 'All' });
        } catch (error) {
          throw new Error(`pod of ${valid.relay.metadata.name} refused: ${errorText(error)}`, { cause: error });
        }
      }
      // The profile is really enforced: a HostNetwork relay pod is refused there.
      const hostNetwork = samples.find((s) => s.manifest.spec.network?.mode === 'HostNetwork')!;
      const valid = validateTurnRelay(await createRelay(restricted, hostNetwork.manifest));
      if (!valid.ok) throw new Error(JSON.stringify(valid.issues));
      const template = (
        renderRelay({ relay: valid.relay, image: 'turnrelay:test', authSecretName: 'auth', observed }).objects.find(
          (o) => o.kind === 'Deployment',
        ) as V1Deployment
      ).spec!.template;
      const body = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'host-network-pod' },
        spec: { ...template.spec!, serviceAccountName: 'default' },
      };
      const refused = await core
        .createNamespacedPod({ namespace: restricted, body, dryRun: 'All' })
        .then(() => 'accepted', errorText);
      expect(refused).toMatch(/^403 .*violates PodSecurity .*restricted.*host namespaces \(hostNetwork=true\)/);
    } finally {
      await deleteTestNamespace(restricted);
    }
  });
});
