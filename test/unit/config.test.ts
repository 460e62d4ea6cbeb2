import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** Runs loadConfig and returns the ConfigError it must throw. */
function configError(env: Record<string, string | undefined>): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

describe('loadConfig defaults', () => {
  it('an empty environment gives the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      rocketChatUrl: undefined,
      port: 4000,
      host: '0.0.0.0',
      production: false,
      nodeEnv: 'development',
      upstream: { timeoutMs: 3000, retries: 2, connections: 64, concurrencyPerRequest: 10 },
      maxIds: 100,
      corsOrigins: [],
      logLevel: 'info',
      trustProxy: false,
    });
  });

  it('the hardening limits default to their documented values', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      maxUpstreamCalls: 120,
      maxResponseBytes: 4 * 1024 * 1024,
      maxJsonDepth: 20,
      documentCacheBytes: 64 * 1024 * 1024,
      apq: { memoryBytes: 8 * 1024 * 1024, ttlSeconds: 3600, redisSlots: 4096 },
      redisTimeoutMs: 50,
      cacheRecheckMs: 5000,
      http: { maxConnections: 4096, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 65_000, requestTimeoutMs: 30_000 },
    });
    expect(loadConfig({ MAX_UPSTREAM_CALLS: '500', REDIS_TIMEOUT_MS: '20' })).toMatchObject({ maxUpstreamCalls: 500, redisTimeoutMs: 20 });
    expect(() => loadConfig({ MAX_UPSTREAM_CALLS: '0' })).toThrow(/MAX_UPSTREAM_CALLS/);
    expect(() => loadConfig({ MAX_CONNECTIONS: 'many' })).toThrow(/MAX_CONNECTIONS/);
    // Node would refuse such a server at start-up with a RangeError instead.
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000' })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS.*HTTP_REQUEST_TIMEOUT_MS/);
    expect(loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '5000' }).http).toMatchObject({
      requestTimeoutMs: 5000,
      headersTimeoutMs: 5000,
    });
  });

  it('does not read process.env when given an explicit env', () => {
    const config = loadConfig({ PORT: '4100' });
    expect(config.port).toBe(4100);
    expect(config.rocketChatUrl).toBeUndefined();
  });
});

describe('loadConfig parses each variable', () => {
  it('ROCKETCHAT_URL', () => {
    expect(loadConfig({ ROCKETCHAT_URL: 'https://chat.example.org' }).rocketChatUrl).toBe('https://chat.example.org');
    expect(loadConfig({ ROCKETCHAT_URL: 'http://localhost:3000' }).rocketChatUrl).toBe('http://localhost:3000');
  });

  it('ROCKETCHAT_URL: trailing slashes stripped, path prefix kept', () => {
    expect(loadConfig({ ROCKETCHAT_URL: 'https://chat.example.org/' }).rocketChatUrl).toBe('https://chat.example.org');
    expect(loadConfig({ ROCKETCHAT_URL: 'https://example.org/chat/' }).rocketChatUrl).toBe('https://example.org/chat');
    expect(loadConfig({ ROCKETCHAT_URL: 'https://example.org/tools/chat//' }).rocketChatUrl).toBe('https://example.org/tools/chat');
  });

  it('PORT and HOST', () => {
    const config = loadConfig({ PORT: '8080', HOST: '127.0.0.1' });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
  });

  it('NODE_ENV', () => {
    expect(loadConfig({ NODE_ENV: 'test' })).toMatchObject({ nodeEnv: 'test', production: false });
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ nodeEnv: 'production', production: true });
    expect(loadConfig({ NODE_ENV: 'development' })).toMatchObject({ nodeEnv: 'development', production: false });
  });

  it('UPSTREAM_* variables', () => {
    const config = loadConfig({
      UPSTREAM_TIMEOUT_MS: '750',
      UPSTREAM_DEADLINE_MS: '2000',
      UPSTREAM_RETRIES: '0',
      UPSTREAM_RETRY_BUDGET: '0.25',
      UPSTREAM_CONNECTIONS: '8',
      UPSTREAM_QUEUE: '16',
      UPSTREAM_CONCURRENCY_PER_REQUEST: '4',
    });
    expect(config.upstream).toStrictEqual({
      timeoutMs: 750,
      deadlineMs: 2000,
      retries: 0,
      retryBudget: 0.25,
      connections: 8,
      queue: 16,
      concurrencyPerRequest: 4,
    });
  });

  it('a deadline shorter than one attempt stops start-up instead of being raised without a word', () => {
    expect(configError({ UPSTREAM_TIMEOUT_MS: '5000', UPSTREAM_DEADLINE_MS: '1000' }).message).toContain(
      'UPSTREAM_DEADLINE_MS: must be at least UPSTREAM_TIMEOUT_MS (got 1000 and 5000)',
    );
    // The default deadline (8000) against a longer attempt timeout is the same conflict.
    expect(configError({ UPSTREAM_TIMEOUT_MS: '9000' }).message).toContain('UPSTREAM_DEADLINE_MS');
    expect(loadConfig({ UPSTREAM_TIMEOUT_MS: '5000', UPSTREAM_DEADLINE_MS: '5000' }).upstream.deadlineMs).toBe(5000);
  });

  it('every refusal names the variable, what is allowed and the value, one line each, in one style', () => {
    const message = configError({ PORT: 'x', LOG_LEVEL: 'loud', TRUST_PROXY: 'yes', NODE_ENV: 'prod', MAX_IDS: '0' }).message;
    expect(message.split('\n')).toEqual([
      'Invalid configuration:',
      '  PORT: must be a whole number from 0 to 65535 (got "x")',
      '  NODE_ENV: must be one of development, production, test (got "prod")',
      '  MAX_IDS: must be a whole number from 1 to 1000 (got "0")',
      '  LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      '  TRUST_PROXY: must be one of true, false, 1, 0 (got "yes")',
    ]);
    // Conflicts between valid values come together, in the same shape.
    expect(configError({ HTTP_REQUEST_TIMEOUT_MS: '5000', UPSTREAM_TIMEOUT_MS: '9000' }).message.split('\n')).toEqual([
      'Invalid configuration:',
      '  HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS (got 10000 and 5000)',
      '  UPSTREAM_DEADLINE_MS: must be at least UPSTREAM_TIMEOUT_MS (got 8000 and 9000)',
    ]);
  });

  it('BREAKER_THRESHOLD and BREAKER_HALF_OPEN_MS', () => {
    expect(loadConfig({}).breaker).toStrictEqual({ threshold: 5, halfOpenMs: 10_000 });
    expect(loadConfig({ BREAKER_THRESHOLD: '3', BREAKER_HALF_OPEN_MS: '250' }).breaker).toStrictEqual({
      threshold: 3,
      halfOpenMs: 250,
    });
  });

  it.each([
    ['UPSTREAM_RETRY_BUDGET', '1.5'],
    ['UPSTREAM_RETRY_BUDGET', 'lots'],
    ['BREAKER_THRESHOLD', '0'],
    ['UPSTREAM_QUEUE', '-1'],
    ['PORT', ' '],
  ])('refuses %s=%j naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('MAX_IDS', () => {
    expect(loadConfig({ MAX_IDS: '25' }).maxIds).toBe(25);
  });

  it.each([
    ['https://console.example.org/', 'a trailing slash'],
    ['https://console.example.org/app', 'a path'],
    ['console.example.org', 'no scheme'],
    ['ftp://console.example.org', 'not http(s)'],
    ['https://user@console.example.org', 'credentials'],
    ['https://*.example.org', 'a wildcard host'],
  ])('CORS_ORIGINS refuses %j (%s), naming the entry', (entry) => {
    const message = configError({ CORS_ORIGINS: `https://ok.example, ${entry}` }).message;
    expect(message).toContain('CORS_ORIGINS: each entry must be an origin');
    expect(message).toContain(`${JSON.stringify(entry)} is not`);
  });

  it('CORS_ORIGINS accepts origins with ports, http on loopback, and *', () => {
    expect(loadConfig({ CORS_ORIGINS: 'http://localhost:3000,http://127.0.0.1:8080,*' }).corsOrigins).toStrictEqual([
      'http://localhost:3000',
      'http://127.0.0.1:8080',
      '*',
    ]);
  });

  it('EXPLORER: sandbox by default, local on request, refused in production where there is no explorer', () => {
    expect(loadConfig({}).explorer).toBe('sandbox');
    expect(loadConfig({ EXPLORER: 'local' }).explorer).toBe('local');
    expect(configError({ EXPLORER: 'graphiql' }).message).toContain('EXPLORER: must be one of sandbox, local (got "graphiql")');
    expect(configError({ EXPLORER: 'local', NODE_ENV: 'production' }).message).toContain('EXPLORER: has no effect in production');
  });

  it('CORS_ORIGINS: comma-separated, trimmed, empties dropped', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example:8443 ,,' }).corsOrigins).toStrictEqual([
      'https://a.example',
      'https://b.example:8443',
    ]);
  });

  it('LOG_LEVEL', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) {
      expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
    }
  });

  it('TRUST_PROXY accepts true/false/1/0', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
  });

  it('INTROSPECTION explicit values win in any environment', () => {
    expect(loadConfig({ INTROSPECTION: 'false', NODE_ENV: 'development' }).introspection).toBe(false);
    expect(loadConfig({ INTROSPECTION: 'true', NODE_ENV: 'development' }).introspection).toBe(true);
    expect(loadConfig({ INTROSPECTION: '1', NODE_ENV: 'production' }).introspection).toBe(true);
  });
});

describe('loadConfig: introspection follows NODE_ENV unless INTROSPECTION is set', () => {
  it('production turns introspection off', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
  });

  it('production with INTROSPECTION=true keeps it on', () => {
    expect(loadConfig({ NODE_ENV: 'production', INTROSPECTION: 'true' }).introspection).toBe(true);
  });

  it('development (the default) keeps introspection on, for Sandbox', () => {
    expect(loadConfig({}).introspection).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }).introspection).toBe(true);
  });

  it('test keeps introspection on', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).introspection).toBe(true);
  });
});

describe('loadConfig: empty string counts as unset', () => {
  it('every variable empty gives the defaults', () => {
    const config = loadConfig({
      ROCKETCHAT_URL: '',
      PORT: '',
      HOST: '',
      NODE_ENV: '',
      UPSTREAM_TIMEOUT_MS: '',
      UPSTREAM_RETRIES: '',
      UPSTREAM_CONNECTIONS: '',
      UPSTREAM_CONCURRENCY_PER_REQUEST: '',
      MAX_IDS: '',
      CORS_ORIGINS: '',
      LOG_LEVEL: '',
      TRUST_PROXY: '',
      INTROSPECTION: '',
    });
    expect(config).toStrictEqual(loadConfig({}));
    expect(config.rocketChatUrl).toBeUndefined();
    expect(config.port).toBe(4000);
  });

  it('undefined values are ignored as well', () => {
    expect(loadConfig({ PORT: undefined, ROCKETCHAT_URL: undefined })).toStrictEqual(loadConfig({}));
  });
});

describe('loadConfig: invalid values throw a ConfigError naming the variable', () => {
  it.each([
    ['ROCKETCHAT_URL', 'ftp://x'],
    ['ROCKETCHAT_URL', 'not a url'],
    ['ROCKETCHAT_URL', 'https://chat.example.org/?tenant=1'],
    ['ROCKETCHAT_URL', 'https://chat.example.org/#frag'],
    ['ROCKETCHAT_URL', 'https://user:pass@chat.example.org'],
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['UPSTREAM_TIMEOUT_MS', '0'],
    ['UPSTREAM_TIMEOUT_MS', '120001'],
    ['UPSTREAM_RETRIES', '6'],
    ['UPSTREAM_CONNECTIONS', '0'],
    ['UPSTREAM_CONCURRENCY_PER_REQUEST', '0'],
    ['MAX_IDS', '0'],
    ['MAX_IDS', 'many'],
    ['LOG_LEVEL', 'loud'],
    ['TRUST_PROXY', 'yes'],
    ['INTROSPECTION', 'on'],
    ['NODE_ENV', 'staging'],
  ])('%s=%j', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(`${name}:`);
  });

  it('reports every bad variable at once, each named', () => {
    const err = configError({ PORT: 'abc', LOG_LEVEL: 'loud', NODE_ENV: 'staging' });
    expect(err.message).toContain('PORT');
    expect(err.message).toContain('LOG_LEVEL');
    expect(err.message).toContain('NODE_ENV');
  });

  it('does not name variables that were valid', () => {
    const err = configError({ PORT: 'abc', HOST: '127.0.0.1', LOG_LEVEL: 'debug' });
    expect(err.message).not.toContain('HOST');
    expect(err.message).not.toContain('LOG_LEVEL');
  });

  it('does not echo a password embedded in ROCKETCHAT_URL', () => {
    const err = configError({ ROCKETCHAT_URL: 'https://admin:hunter2-s3cret@chat.example.org' });
    expect(err.message).toContain('ROCKETCHAT_URL');
    expect(err.message).not.toContain('hunter2-s3cret');
  });
});
