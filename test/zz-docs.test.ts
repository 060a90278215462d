import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startTestCrest } from '/work/main/test/support/crest.ts';
test('docs examples', async () => {
  const crest = await startTestCrest({ CREST_ROLES: 'api' });
  try {
    const token = crest.token('ingest', ['shop-42']);
    const r = spawnSync(process.execPath, ['/tmp/tt/send-events.mjs'], { input: readFileSync('/tmp/tt/batch.ndjson'), env: { ...process.env, CREST_URL: crest.url, CREST_TOKEN: token }, encoding: 'utf8' });
    console.log('script', r.status, r.stdout, r.stderr);
    const c = spawnSync('curl', ['-sS', '-X', 'POST', `${crest.url}/api/v1/events`, '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/x-ndjson', '--data-binary', '@/tmp/tt/batch.ndjson'], { encoding: 'utf8' });
    console.log('curl', c.stdout, c.stderr);
  } finally { await crest.close(); }
});
