// The test node's network: a network namespace of its own with only `lo`
// (carrying the node's private /32) and the pod bridge, and no route out, so
// the cluster, its pods and every test packet stay inside it. The host reaches
// the API server through a forwarder (see apiServerForwarder).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Addresses inside every test node's namespace (the namespace keeps them apart). */
export const NODE_NETWORK = {
  /** The node's InternalIP, on lo: kubelet refuses a loopback node IP. */
  nodeIp: '10.77.0.1',
  /** Pod bridge and its subnet (host-local IPAM). */
  bridge: 'trbr0',
  podSubnet: '10.244.0.0/24',
  podGateway: '10.244.0.1',
  /** Must match kube-apiserver's --service-cluster-ip-range. */
  serviceCidr: '10.0.0.0/24',
} as const;

export interface NodeNetns {
  name: string;
  /** /run/netns/<name>, for nsenter --net. */
  path: string;
  /** Runs a command inside the namespace; rejects with its stderr on failure. */
  exec(command: string, args: string[]): Promise<string>;
  remove(): Promise<void>;
}

/** Runs a command inside the network namespace at `path` (/run/netns/NAME); rejects with its stderr on failure. */
export async function execInNetns(path: string, command: string, args: string[]): Promise<string> {
  try {
    return (await run('/usr/bin/nsenter', [`--net=${path}`, '--', command, ...args])).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`in netns ${path}: ${command} ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, {
      cause: error,
    });
  }
}

export async function createNodeNetns(): Promise<NodeNetns> {
  const name = `turnrelay-${randomBytes(4).toString('hex')}`;
  const path = `/run/netns/${name}`;
  const exec = (command: string, args: string[]) => execInNetns(path, command, args);
  await run('ip', ['netns', 'add', name]).catch((error: unknown) => {
    const { stderr } = error as { stderr?: string };
    throw new Error(`cannot create network namespace ${name} (needs root and iproute2): ${stderr ?? String(error)}`, {
      cause: error,
    });
  });
  const netns: NodeNetns = {
    name,
    path,
    exec,
    remove: async () => {
      await run('ip', ['netns', 'delete', name]).catch(() => undefined);
    },
  };
  try {
    const { nodeIp, bridge, podGateway, podSubnet, serviceCidr } = NODE_NETWORK;
    await exec('ip', ['link', 'set', 'lo', 'up']);
    await exec('ip', ['addr', 'add', `${nodeIp}/32`, 'dev', 'lo']);
    // The bridge exists before the first pod so the Service CIDR can be routed
    // to it: a ClusterIP needs a route before kube-proxy's DNAT applies.
    await exec('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await exec('ip', ['addr', 'add', `${podGateway}/${podSubnet.split('/')[1]}`, 'dev', bridge]);
    await exec('ip', ['link', 'set', bridge, 'up']);
    await exec('ip', ['route', 'replace', serviceCidr, 'dev', bridge]);
    await exec('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  } catch (error) {
    await netns.remove();
    throw error;
  }
  return netns;
}

// Runs inside the namespace: accepts on a Unix socket (file systems are shared
// across network namespaces) and connects each stream to the target there.
const FORWARDER_SCRIPT = `
const net = require('node:net');
const [socketPath, host, port] = process.argv.slice(1);
net.createServer((inbound) => {
  const outbound = net.connect(Number(port), host);
  inbound.pipe(outbound).pipe(inbound);
  inbound.on('error', () => outbound.destroy());
  outbound.on('error', () => inbound.destroy());
}).listen(socketPath, () => process.stdout.write('ready\\n'));
`;

export interface Forwarder {
  /** 127.0.0.1 port on the host side. */
  port: number;
  close(): Promise<void>;
}

/**
 * A loopback TCP port on the host that reaches host:port inside the node's
 * namespace (for the tests' API clients, which run on the host).
 */
export async function forwardIntoNetns(
  netns: NodeNetns,
  socketPath: string,
  host: string,
  port: number,
): Promise<Forwarder> {
  const child: ChildProcess = spawn(
    '/usr/bin/nsenter',
    [`--net=${netns.path}`, '--', process.execPath, '-e', FORWARDER_SCRIPT, socketPath, host, String(port)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`API forwarder into ${netns.name} exited with code ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(socketPath);
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    for (const socket of [inbound, outbound]) {
      socket.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
  });
  server.unref();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
