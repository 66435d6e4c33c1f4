import { z } from 'zod';

test('runs on Node 24 with ESM TypeScript', () => {
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  expect(z.string().parse('ok')).toBe('ok');
});
