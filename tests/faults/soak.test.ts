/**
 * A short soak in every test run (the long one is `node --import tsx bench/soak.ts --json --seconds 120`, figures in
 * docs/reliability.md §6): mixed valid and hostile requests against one real server while jobs run; afterwards every
 * job is done and verified, nothing finished was lost, and memory and file descriptors are back near their start.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from '../../bench/soak.js';

test('a 15-second soak: every answer allowed, every job done and verified, nothing lost, no leak', { timeout: 400_000 }, async (t) => {
  const r = await runSoak({ seconds: 15, clients: 4 });
  t.diagnostic(JSON.stringify({ requests: r.requests, jobs: r.jobs, rss_mb: r.rss_mb, fds: r.fds }));
  assert.deepEqual(r.unexpected, []);
  assert.ok(r.requests > 60, `${r.requests} requests`);
  assert.ok(r.jobs.submitted >= 2);
  assert.equal(r.jobs.done, r.jobs.submitted);
  assert.equal(r.jobs.results_verified, r.jobs.submitted);
  assert.equal(r.finished_lost, 0);
  assert.ok(r.server_alive);
  assert.equal(r.server_log_stack_traces, 0);
  assert.ok(r.fds.after <= r.fds.before + 8, `file descriptors ${r.fds.before} → ${r.fds.after}`);
  assert.ok(r.rss_mb.after <= r.rss_mb.before * 1.5 + 60, `RSS ${r.rss_mb.before} → ${r.rss_mb.after} MB`);
});
