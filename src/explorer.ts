import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ApolloServerPlugin } from '@apollo/server';

/**
 * The local explorer (EXPLORER=local): GraphiQL served from the gateway's own installed packages,
 * for closed networks where Apollo Sandbox (loaded from Apollo's CDN) is a blank page. GraphiQL 3
 * is the last line that ships a standalone browser build (`graphiql.min.js`, on React 18's UMD
 * builds); later lines expect a bundler, which this gateway does not run.
 */
export const EXPLORER_PATH = '/explorer/';

const require = createRequire(import.meta.url);

/**
 * Every file the page loads, by name under EXPLORER_PATH (nothing else is served from there): a
 * package and a file in it. The packages' `exports` do not list their browser builds, so the files
 * are found beside each package's package.json, which they do export.
 */
const FILES: Readonly<Record<string, { pkg: string; file: string; type: string }>> = {
  'react.production.min.js': { pkg: 'react', file: 'umd/react.production.min.js', type: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css; charset=utf-8' },
};

/**
 * Renders GraphiQL into the page with the example the page was built with. A file of its own, not
 * an inline script, so that a Content-Security-Policy of `script-src 'self'` allows the page.
 */
const INIT_SCRIPT = `(function () {
  var config = JSON.parse(document.getElementById('explorer-config').textContent);
  var fetcher = GraphiQL.createFetcher({ url: new URL(config.path, window.location.href).href });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.document,
      query: config.document,
      variables: config.variables,
      headers: config.headers,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
})();
`;

export interface ExplorerAsset {
  body: Buffer;
  type: string;
}

/** The explorer's files, read once at start-up (about 1.5 MB); a name not among them is undefined. */
export class ExplorerAssets {
  readonly #files = new Map<string, ExplorerAsset>();

  constructor() {
    for (const [name, { pkg, file, type }] of Object.entries(FILES)) {
      this.#files.set(name, { body: readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), file)), type });
    }
    this.#files.set('init.js', { body: Buffer.from(INIT_SCRIPT), type: 'text/javascript; charset=utf-8' });
  }

  get(name: string): ExplorerAsset | undefined {
    return this.#files.get(name);
  }
}

export interface ExplorerExample {
  /** The operation the editor opens with. */
  document: string;
  variables: Record<string, unknown>;
  headers: Record<string, string>;
}

/** Apollo's landing-page hook, answering a browser's GET /graphql with the local GraphiQL page. */
export function localExplorerLandingPage(example: ExplorerExample): ApolloServerPlugin {
  const html = explorerHtml(example);
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html };
        },
      };
    },
  };
}

function explorerHtml({ document, variables, headers }: ExplorerExample): string {
  const config = { path: '/graphql', document, variables: JSON.stringify(variables, null, 2), headers: JSON.stringify(headers, null, 2) };
  // JSON inside a script element: `<` escaped so that no value can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  const asset = (name: string) => `${EXPLORER_PATH}${name}`;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>livechat-visitor-gateway · GraphiQL</title>
    <link rel="stylesheet" href="${asset('graphiql.min.css')}" />
    <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script id="explorer-config" type="application/json">${json}</script>
    <script src="${asset('react.production.min.js')}"></script>
    <script src="${asset('react-dom.production.min.js')}"></script>
    <script src="${asset('graphiql.min.js')}"></script>
    <script src="${asset('init.js')}"></script>
  </body>
</html>
`;
}
