// A pino logger whose JSON lines a test can read back (warn and above by default).
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export function recordingLogger(level = 'warn'): { lines: LogLine[]; log: Logger } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  return { lines, log: pino({ level, formatters: { level: (label) => ({ level: label }) } }, stream) };
}
