// Which data plane a relay runs: relay.dataPlane in the config, or, when it is
// absent, the native plane if its addon is built and the JavaScript plane
// (with one warning) if not. An explicit 'native' without the addon is a
// startup error that says how to build it. The JavaScript plane warns when the
// config sets native-only settings, which it ignores.
import type { Logger } from 'pino';
import type { HandlerGuard } from '../handler-guard.js';
import { JsDataPlane } from './js-data-plane.js';
import { NativeDataPlane } from './native/native-data-plane.js';
import { nativeAddonPath, nativeAddonExists } from './native/native-addon.js';
import type { DataPlane } from './types.js';

export type DataPlaneChoice = 'node' | 'native' | undefined;

/** Config fields only the native plane reads. */
export const NATIVE_ONLY_SETTINGS = ['relay.threads', 'relay.coalesceMicros'] as const;
export type NativeOnlySetting = (typeof NATIVE_ONLY_SETTINGS)[number];

export interface DataPlaneSelection {
  choice: DataPlaneChoice;
  /** Worker threads of the native plane (default: the CPUs available); the JavaScript plane has one. */
  threads?: number;
  /** The native plane's coalescing pause in µs (default DEFAULT_COALESCE_MICROS). */
  coalesceMicros?: number;
  log: Pick<Logger, 'warn'>;
  /** Catches what a socket handler of the plane throws. */
  guard?: HandlerGuard;
  /** For tests: where the addon is looked for. */
  addonPath?: string;
}

export function selectDataPlane({
  choice,
  threads,
  coalesceMicros,
  log,
  guard,
  addonPath = nativeAddonPath(),
}: DataPlaneSelection): DataPlane {
  // A JavaScript plane says it ignores the native-only settings the config sets.
  const given: Record<NativeOnlySetting, unknown> = {
    'relay.threads': threads,
    'relay.coalesceMicros': coalesceMicros,
  };
  const ignored = NATIVE_ONLY_SETTINGS.filter((field) => given[field] !== undefined);
  const ignoring = ignored.length > 0 ? `; the JavaScript plane ignores ${ignored.join(' and ')}` : '';
  if (choice === 'node') {
    if (ignoring) log.warn({ ignored }, `relay.dataPlane is node${ignoring}`);
    return new JsDataPlane(guard);
  }
  if (choice === 'native' || nativeAddonExists(addonPath))
    return new NativeDataPlane({
      addonPath,
      ...(threads ? { threads } : {}),
      ...(coalesceMicros !== undefined ? { coalesceMicros } : {}),
      ...(guard ? { guard } : {}),
    });
  log.warn(
    { addon: addonPath, ...(ignoring ? { ignored } : {}) },
    'the native data plane is not built, so UDP relaying runs on the slower JavaScript plane: ' +
      'run `npm run build:native` (needs g++) to build it, or set relay.dataPlane: node to silence this warning' +
      ignoring,
  );
  return new JsDataPlane(guard);
}
