// The test node's own builds, cached like the control plane's: containerd
// (test/containerd/build.sh) and the images it runs (test/images/build.sh).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findBuildScript, runBuildScript } from './binaries.js';

/** Folder with containerd, containerd-shim-runc-v2 and ctr. */
export function buildContainerd(): Promise<string> {
  return runBuildScript(findBuildScript(join('test', 'containerd', 'build.sh')), 'containerd');
}

/** docker-archive tarballs of the pause, relay and operator images, with the names they are imported as. */
export async function buildImages(): Promise<{ name: string; archive: string }[]> {
  const dir = await runBuildScript(findBuildScript(join('test', 'images', 'build.sh')), 'test images');
  const list = await readFile(join(dir, 'images.list'), 'utf8');
  return list
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [file, name] = line.split(' ');
      return { name: name!, archive: join(dir, file!) };
    });
}
