/**
 * The README's graphql-codegen configuration, as a frontend would run it: the client preset against
 * a running gateway (introspection over HTTP), the scalars mapped, ErrorCode generated beside it.
 * A small client written on what it generates must type-check under a strict frontend tsconfig,
 * read `extensions.code` as `ErrorCode` (a code outside the enum must not compile), and work
 * against the demo.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { ROOT } from '../helpers/process.js';
import { useServers } from '../helpers/servers.js';

const run = promisify(execFile);
const servers = useServers();
const dir = join(ROOT, '.scratch', `codegen-${process.pid}`);
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README's `// codegen.ts` block, as written there. */
function readmeConfig(): string {
  const block = /```ts\n(\/\/ codegen\.ts\nimport type \{ CodegenConfig \}[\s\S]*?)```/.exec(readme);
  expect(block, 'the README has a codegen.ts example').not.toBeNull();
  return block![1]!;
}

const CLIENT = `import { graphql } from './gql/index.js';
import type { ErrorCode } from './gql/error-code.js';
import type { VisitorCardQuery } from './gql/graphql.js';

export const VisitorCard = graphql(\`
  query VisitorCard($id: ID!) {
    visitor(id: $id) { id name createdAt customFields chats(first: 5) { totalCount } }
  }
\`);

type GatewayError = { message: string; extensions?: { code?: ErrorCode; retryAfter?: number; requestId?: string } };
type Answer = { data?: VisitorCardQuery | null; errors?: GatewayError[] };

/** The visitor's name and first chat count, or the code it failed with. */
export async function visitorCard(url: string, print: (doc: typeof VisitorCard) => string, headers: Record<string, string>, id: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: print(VisitorCard), variables: { id } }),
  });
  const body = (await res.json()) as Answer;
  const code: ErrorCode | undefined = body.errors?.[0]?.extensions?.code;
  if (code === 'NOT_FOUND' || code === 'UNAUTHENTICATED') return { code };
  const visitor = body.data?.visitor;
  if (!visitor) return { code: code ?? ('INTERNAL_SERVER_ERROR' satisfies ErrorCode) };
  // The scalars as mapped: DateTime a string, JSONObject a record.
  const created: string | null = visitor.createdAt;
  const fields: Record<string, unknown> | null = visitor.customFields;
  return { name: visitor.name, chats: visitor.chats.totalCount, created, fields };
}

// @ts-expect-error 'NOT_A_CODE' is no ErrorCode: the type is the catalogue, not a string.
export const notACode: ErrorCode = 'NOT_A_CODE';
`;

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2023', 'DOM'], strict: true, noEmit: true, skipLibCheck: true },
  include: ['*.ts', 'gql/*.ts'],
};

describe('the README codegen configuration against a running gateway', () => {
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates typed documents and ErrorCode, type-checks a client reading extensions.code as ErrorCode, and the client works', async () => {
    const upstream = await servers.demo();
    const gateway = await servers.gateway(upstream.url);
    const url = gateway.url;
    const config = readmeConfig()
      .replace("'http://localhost:4000/graphql'", JSON.stringify(url))
      .replace("['src/**/*.ts']", JSON.stringify([`${dir}/client.ts`]))
      .replaceAll("'./src/gql/", `'${dir}/gql/`);
    expect(config).toContain(url);
    writeFileSync(join(dir, 'codegen.ts'), config);
    writeFileSync(join(dir, 'client.ts'), CLIENT);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));

    await run(process.execPath, [join(ROOT, 'node_modules/@graphql-codegen/cli/cjs/bin.js'), '--config', join(dir, 'codegen.ts')], {
      cwd: ROOT,
      timeout: 60_000,
    });
    const errorCodes = readFileSync(join(dir, 'gql/error-code.ts'), 'utf8');
    expect(errorCodes).toMatch(/export type ErrorCode =/);
    expect(errorCodes).toContain("'PERSISTED_DOCUMENT_REQUIRED'");
    expect(readFileSync(join(dir, 'gql/graphql.ts'), 'utf8')).toContain('createdAt: string | null');

    // Strict, as a frontend builds: the client compiles, and the @ts-expect-error proves a wrong code would not.
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: ROOT, timeout: 60_000 }).catch(
      (err: { stdout?: string }) => {
        throw new Error(`tsc failed:\n${err.stdout}`);
      },
    );

    const { print } = await import('graphql');
    const client = (await import(/* @vite-ignore */ join(dir, 'client.ts'))) as {
      visitorCard(url: string, print: never, headers: Record<string, string>, id: string): Promise<unknown>;
    };
    const headers = { 'X-Auth-Token': DEMO_CREDENTIALS.authToken, 'X-User-Id': DEMO_CREDENTIALS.userId };
    expect(await client.visitorCard(url, print as never, headers, SEED_VISITOR_ID)).toEqual({
      name: 'Livechat Visitor',
      chats: 2,
      created: '2023-04-07T07:08:04.375Z',
      fields: null,
    });
    expect(await client.visitorCard(url, print as never, headers, 'doesNotExist00001')).toEqual({ code: 'NOT_FOUND' });
    expect(await client.visitorCard(url, print as never, {}, SEED_VISITOR_ID)).toEqual({ code: 'UNAUTHENTICATED' });
  }, 120_000);
});
