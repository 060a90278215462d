import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../config/config.ts';
import { createRedis, isCluster, parseClusterTarget, parseSentinelTarget, redisTargetProblem } from './redis-connection.ts';
import { exitsWithin } from '../test/support/exit-watch.ts';

exitsWithin();

test('a redis-cluster:// target names its seed nodes and credentials', () => {
  assert.deepEqual(parseClusterTarget('redis-cluster://10.0.0.1:7000,10.0.0.2:7001'), {
    nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }],
    username: undefined,
    password: undefined,
  });
  assert.deepEqual(parseClusterTarget('redis-cluster://crest:s%40cret@[::1]:7000'), { nodes: [{ host: '::1', port: 7000 }], username: 'crest', password: 's@cret' });
  assert.equal(parseClusterTarget('redis://127.0.0.1:6379'), null);
});

test('a redis-sentinel:// target names its sentinels, the master name and credentials', () => {
  assert.deepEqual(parseSentinelTarget('redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/crest'), {
    nodes: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }],
    username: undefined,
    password: undefined,
    name: 'crest',
  });
  assert.deepEqual(parseSentinelTarget('redis-sentinel://:s%2Fcret@[::1]:26379/main%201'), { nodes: [{ host: '::1', port: 26379 }], username: undefined, password: 's/cret', name: 'main 1' });
  assert.equal(parseSentinelTarget('redis://127.0.0.1:6379'), null);
  assert.match(redisTargetProblem('redis-sentinel://a:26379')!, /no master name/);
  assert.match(redisTargetProblem('redis-sentinel://a/crest')!, /"a" is not host:port/);
  assert.equal(redisTargetProblem('redis-sentinel://a:26379,b:26379/crest'), null);
  const client = createRedis('redis-sentinel://127.0.0.1:1/crest', { lazyConnect: true });
  try {
    assert.ok(client instanceof Redis && !isCluster(client), 'one primary, found through the sentinels');
    assert.deepEqual([client.options.name, client.options.sentinels], ['crest', [{ host: '127.0.0.1', port: 1 }]]);
  } finally {
    client.disconnect();
  }
});

test('REDIS_URL: one server or a cluster; anything else stops the process naming the key', () => {
  assert.equal(redisTargetProblem('redis://127.0.0.1:6379/0'), null);
  assert.equal(redisTargetProblem('rediss://user:pw@cache.example.com:6380'), null);
  assert.equal(redisTargetProblem('redis-cluster://a:7000,b:7001'), null);
  assert.match(redisTargetProblem('redis-cluster://a:7000,b')!, /"b" is not host:port/);
  assert.match(redisTargetProblem('http://a:7000')!, /redis-cluster:\/\//);
  assert.equal(loadConfig({ REDIS_URL: 'redis-cluster://127.0.0.1:7000,127.0.0.1:7001' }).redisUrl, 'redis-cluster://127.0.0.1:7000,127.0.0.1:7001');
  assert.throws(() => loadConfig({ REDIS_URL: 'redis-cluster://127.0.0.1' }), (e: Error) => e instanceof ConfigError && e.message.startsWith('REDIS_URL:'));
});

test('createRedis picks the client by target, without connecting when lazy', () => {
  const one = createRedis('redis://127.0.0.1:1', { lazyConnect: true });
  const many = createRedis('redis-cluster://127.0.0.1:1,127.0.0.1:2', { lazyConnect: true, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 });
  try {
    assert.ok(one instanceof Redis && !isCluster(one), 'one instanceof Redis && !isCluster(one)');
    assert.ok(many instanceof Cluster && isCluster(many), 'many instanceof Cluster && isCluster(many)');
    // A client that must never resend a cut-off write gets no failover retry from the cluster either.
    assert.equal(many.options.retryDelayOnFailover, 0);
    assert.equal(many.options.redisOptions?.maxRetriesPerRequest, 0);
  } finally {
    one.disconnect();
    many.disconnect();
  }
});
