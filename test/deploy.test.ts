import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

// The deployment files cannot be run here (no container runtime): their shape is checked instead. That several
// processes on one database with the Redis bus deliver every message once, in order, is test/realtime-cluster.test.ts.

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string };
  ports?: string[];
  volumes?: string[];
}

function compose(): { services: Record<string, Service> } {
  // Merge keys (`<<: *parley`) as Compose reads them.
  return parse(read('compose.yaml'), { merge: true }) as { services: Record<string, Service> };
}

/** An nginx configuration as a tree of directives: `name args;` or `name args { ... }`. */
interface Directive {
  name: string;
  args: string[];
  block: Directive[] | null;
}

function parseNginx(text: string): Directive[] {
  const tokens = text.replace(/#[^\n]*/g, '').match(/'[^']*'|"[^"]*"|[{};]|[^\s{};]+/g) ?? [];
  let at = 0;
  const parseBlock = (): Directive[] => {
    const directives: Directive[] = [];
    while (at < tokens.length && tokens[at] !== '}') {
      const words: string[] = [];
      while (at < tokens.length && !['{', ';', '}'].includes(tokens[at]!)) {
        words.push(tokens[at]!.replace(/^(['"])(.*)\1$/, '$2'));
        at += 1;
      }
      const [name = '', ...args] = words;
      if (tokens[at] === '{') {
        at += 1;
        directives.push({ name, args, block: parseBlock() });
        assert.equal(tokens[at], '}', `the block of ${name} ${args.join(' ')} is closed`);
      } else {
        assert.equal(tokens[at], ';', `${name} ${args.join(' ')} ends with ;`);
        directives.push({ name, args, block: null });
      }
      at += 1;
    }
    return directives;
  };
  const tree = parseBlock();
  assert.equal(at, tokens.length, 'no stray }');
  return tree;
}

const find = (tree: Directive[], name: string, ...args: string[]) =>
  tree.filter((d) => d.name === name && args.every((arg, i) => d.args[i] === arg));

/** Dockerfile instructions, with continuation lines joined and comments dropped. */
function dockerfile(): { instruction: string; args: string }[] {
  return read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [instruction = '', ...rest] = line.split(/\s+/);
      return { instruction: instruction.toUpperCase(), args: rest.join(' ') };
    });
}

describe('deployment files', () => {
  it('compose.yaml: PostgreSQL, Redis, two Parley replicas on one database and the Redis bus, a proxy', () => {
    const { services } = compose();
    const replicas = Object.entries(services).filter(([, service]) => service.build !== undefined);
    assert.deepEqual(
      replicas.map(([name]) => name),
      ['parley-1', 'parley-2'],
    );
    for (const name of ['postgres', 'redis', 'proxy']) {
      assert.ok(services[name], `a ${name} service`);
    }
    const envs = replicas.map(([, service]) => service.environment ?? {});
    for (const key of ['DATABASE_URL', 'PARLEY_BUS', 'REDIS_URL', 'JWT_SECRET', 'JWT_ISSUER']) {
      assert.equal(new Set(envs.map((env) => env[key])).size, 1, `both replicas have the same ${key}`);
    }
    const env = envs[0]!;
    assert.equal(env.NODE_ENV, 'production');
    assert.equal(env.PARLEY_BUS, 'redis');
    const database = new URL(env.DATABASE_URL!.replace(/\$\{[^}]*\}/g, 'secret'));
    assert.equal(database.protocol, 'postgres:');
    assert.equal(database.hostname, 'postgres', 'the postgres service');
    const postgres = services.postgres!.environment ?? {};
    assert.equal(database.pathname, `/${postgres.POSTGRES_DB}`);
    assert.equal(database.username, postgres.POSTGRES_USER);
    assert.equal(new URL(env.REDIS_URL!).hostname, 'redis', 'the redis service');
    assert.match(env.JWT_SECRET!, /^\$\{JWT_SECRET:\?/, 'the secret is required, never a default');
    // Client addresses: the one the proxy in front appends to X-Forwarded-For, believed because nothing else can
    // connect to a replica (a hop count trusts whatever connects).
    assert.equal(env.PARLEY_TRUST_PROXY, '1', 'one trusted hop: nginx');
    assert.equal(env.HOST, '0.0.0.0', 'the address to listen on is set, not left to the default');
    for (const [name, service] of replicas) {
      assert.equal(service.ports, undefined, `${name} publishes no port: only the proxy reaches it`);
    }
    assert.match(env.DATABASE_URL!, /\$\{POSTGRES_PASSWORD:\?/);
  });

  it('compose.yaml: every service has a health check, and starts after what it needs is healthy', () => {
    const { services } = compose();
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.healthcheck?.test, `${name} has a health check`);
    }
    for (const name of ['parley-1', 'parley-2']) {
      const service = services[name]!;
      assert.match(String(service.healthcheck?.test), /\/health\/ready/);
      assert.equal(service.depends_on?.postgres?.condition, 'service_healthy', `${name} waits for postgres`);
      assert.equal(service.depends_on?.redis?.condition, 'service_healthy', `${name} waits for redis`);
      assert.equal(
        services.proxy!.depends_on?.[name]?.condition,
        'service_healthy',
        `the proxy waits for ${name}`,
      );
    }
    assert.ok(services.proxy!.ports?.length, 'the proxy is published');
  });

  it('the proxy balances both replicas and upgrades /v1/stream to a WebSocket', () => {
    const { services } = compose();
    const mount = (services.proxy!.volumes ?? []).find((volume) => volume.includes('nginx.conf'));
    assert.ok(mount, 'the proxy mounts an nginx configuration');
    const [source = '', target = ''] = mount.split(':');
    assert.ok(existsSync(path.join(ROOT, source)), `${source} exists`);
    assert.match(target, /^\/etc\/nginx\/conf\.d\/.+\.conf$/, 'included in the http block');

    const conf = parseNginx(read(source));
    const upstream = find(conf, 'upstream')[0];
    assert.ok(upstream?.block, 'an upstream');
    assert.deepEqual(
      find(upstream.block, 'server').map((d) => d.args[0]),
      ['parley-1:3000', 'parley-2:3000'],
      'both replicas, on the port the image listens on',
    );
    const upgrade = find(conf, 'map', '$http_upgrade', '$connection_upgrade')[0];
    assert.ok(upgrade?.block, 'Connection follows Upgrade');
    assert.deepEqual(
      upgrade.block.map((d) => [d.name, ...d.args]),
      [
        ['default', 'upgrade'],
        ['', 'close'],
      ],
    );

    const server = find(conf, 'server')[0]!.block!;
    const location = (where: string) => {
      const found = server.find((d) => d.name === 'location' && d.args.at(-1) === where);
      assert.ok(found?.block, `location ${where}`);
      return found.block;
    };
    const stream = location('/v1/stream');
    const header = (block: Directive[], name: string) =>
      find(block, 'proxy_set_header', name)[0]?.args[1] ?? null;
    assert.deepEqual(find(stream, 'proxy_pass')[0]?.args, [`http://${upstream.args[0]}`]);
    assert.equal(header(stream, 'Upgrade'), '$http_upgrade');
    assert.equal(header(stream, 'Connection'), '$connection_upgrade');
    assert.equal(
      (find(stream, 'proxy_http_version')[0] ?? find(server, 'proxy_http_version')[0])?.args[0],
      '1.1',
    );
    assert.match(find(stream, 'proxy_read_timeout')[0]?.args[0] ?? '', /^\d+[hm]$/, 'streams outlive 60 s');
    assert.deepEqual(find(location('/v1/events'), 'proxy_buffering')[0]?.args, ['off'], 'SSE unbuffered');
    for (const where of ['/v1/stream', '/v1/events', '/']) {
      const block = location(where);
      assert.deepEqual(find(block, 'proxy_pass')[0]?.args, [`http://${upstream.args[0]}`], where);
      // nginx inherits no proxy_set_header into a location that sets one: each sets them all.
      assert.equal(header(block, 'X-Forwarded-For'), '$proxy_add_x_forwarded_for', where);
      assert.equal(header(block, 'Host'), '$host', where);
    }
    const format = find(conf, 'log_format')[0];
    assert.ok(format, 'a log format of its own');
    const logged = format.args.slice(1).join(' ');
    assert.doesNotMatch(
      logged,
      /\$request\b|\$request_uri|\$args|\$query_string/,
      'no ?access_token= in the logs',
    );
    assert.deepEqual(find(conf, 'access_log')[0]?.args.slice(1), [format.args[0]]);
  });

  it('Dockerfile: stages, production NODE_ENV, an unprivileged user, a readiness health check', () => {
    const lines = dockerfile();
    const stages = lines.filter((line) => line.instruction === 'FROM');
    assert.ok(stages.length >= 2, 'multi-stage');
    const names = stages.map((stage) => /\bAS\s+(\S+)$/i.exec(stage.args)?.[1]);
    assert.ok(
      names.every((name) => name !== undefined),
      'every stage is named',
    );
    for (const stage of stages) {
      // A current LTS line (even major), pinned, that package.json's engines (>= 20.19) allows.
      const major = Number(/^node:(\d+)[.\w-]*\s/.exec(stage.args)?.[1]);
      assert.ok(major >= 22 && major % 2 === 0, `an LTS major the engines allow, pinned: ${stage.args}`);
    }
    const lastFrom = lines.lastIndexOf(stages.at(-1)!);
    const runtime = lines.slice(lastFrom + 1);
    for (const copy of lines.filter((line) => line.instruction === 'COPY' && line.args.includes('--from='))) {
      const from = /--from=(\S+)/.exec(copy.args)?.[1] ?? '';
      assert.ok(names.slice(0, -1).includes(from), `COPY --from=${from} names an earlier stage`);
    }

    const user = runtime.filter((line) => line.instruction === 'USER').at(-1);
    assert.ok(user, 'the runtime stage sets a USER');
    assert.doesNotMatch(user.args, /^(root|0)(:|$)/, 'not root');
    const env = runtime
      .filter((line) => line.instruction === 'ENV')
      .map((line) => line.args)
      .join(' ');
    assert.match(env, /\bNODE_ENV=production\b/);
    assert.match(env, /\bHOST=0\.0\.0\.0\b/, 'the image listens on every interface, said explicitly');
    const port = /\bPORT=(\d+)/.exec(env)?.[1];
    assert.ok(
      runtime.some((line) => line.instruction === 'EXPOSE' && line.args === port),
      'EXPOSE the PORT',
    );
    const health = runtime.find((line) => line.instruction === 'HEALTHCHECK');
    assert.ok(health, 'a HEALTHCHECK');
    assert.match(health.args, /CMD .*\/health\/ready/);

    const cmd = runtime.find((line) => line.instruction === 'CMD');
    assert.ok(cmd, 'a CMD');
    const [program, entry] = JSON.parse(cmd.args) as string[];
    assert.equal(program, 'node');
    // The build writes src/x.ts to dist/src/x.js (tsconfig.build.json).
    const source = entry!.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    assert.ok(existsSync(path.join(ROOT, source)), `${entry} is built from ${source}`);
  });

  it('Dockerfile: everything it copies from the context is there and not excluded', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const name of ['node_modules', '.git', 'dist', 'data']) {
      assert.ok(ignored.includes(name), `.dockerignore leaves out ${name}`);
    }
    for (const copy of dockerfile().filter(
      (line) => line.instruction === 'COPY' && !line.args.includes('--from='),
    )) {
      const sources = copy.args.split(/\s+/).filter((arg) => !arg.startsWith('--'));
      for (const source of sources.slice(0, -1)) {
        assert.ok(existsSync(path.join(ROOT, source)), `COPY ${source}: exists`);
        assert.ok(!ignored.includes(source), `COPY ${source}: not in .dockerignore`);
      }
    }
  });
});
