import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { sha256 } from './apq.js';

export type ManifestFormat = 'codegen' | 'apollo';

/**
 * Trusted-documents manifests written to a directory of the test file's own, removed after it:
 * graphql-codegen's `{ "<sha256>": "<document>" }` or Apollo's persisted query manifest, each
 * document under its SHA-256 as the tools give it. Call once at the top of a test file.
 */
export function useManifests(prefix: string) {
  let dir: string;
  let counter = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    /** Writes a manifest of `documents` (named by their operation) and answers its path. */
    async write(format: ManifestFormat, documents: string[]): Promise<string> {
      const path = this.path(format);
      const content =
        format === 'codegen'
          ? Object.fromEntries(documents.map((d) => [sha256(d), d]))
          : {
              format: 'apollo-persisted-query-manifest',
              version: 1,
              operations: documents.map((body) => ({ id: sha256(body), name: /query (\w+)/.exec(body)?.[1] ?? 'anonymous', type: 'query', body })),
            };
      await writeFile(path, JSON.stringify(content, null, 2));
      return path;
    },
    /** A path in the directory never answered before, for a file a test writes itself. */
    path(stem: string): string {
      return join(dir, `${stem}-${++counter}.json`);
    },
  };
}
