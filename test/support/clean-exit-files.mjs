// Test files test/run.mjs runs WITHOUT `--test-force-exit`: each must exit by itself once its tests are done,
// and calls exitsWithin() (test/support/exit-watch.ts) so that a leaked timer or socket fails it in seconds,
// naming what holds the event loop, instead of being hidden by force-exit. test/test-hygiene.test.ts checks
// that each file here calls it. Add a file once it exits cleanly (docs/testing.md says how to find a leak).
export const CLEAN_EXIT_FILES = [
  'test/fault-sentinel.test.ts',
  'test/fault-cluster-failover.test.ts',
  'test/fault-failover.test.ts',
  'test/fault-redis-restart.test.ts',
  'test/fault-backlog.test.ts',
  'test/fault-webhook-outage.test.ts',
  'test/fault-socket-reconnect.test.ts',
  'test/fault-socket-away-live.test.ts',
  'test/cluster-replicas.test.ts',
  'test/cluster.test.ts',
];
