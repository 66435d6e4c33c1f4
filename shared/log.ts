// Structured JSON logs. Secrets, passwords, keys and payloads must never be
// logged: callers pass metadata only, and the redaction list below is a
// second line of defence for fields that slip through.
import { pino, type DestinationStream, type Logger } from 'pino';

const REDACT = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'key',
  '*.key',
  'credential',
  '*.credential',
  'payload',
  '*.payload',
];

/** `destination` defaults to stdout (tests pass a stream to read what was logged). */
export function createLogger(
  name: string,
  level = process.env.TURNRELAY_LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    base: { component: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
