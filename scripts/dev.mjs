/**
 * `npm run dev`: TypeScript's compiler in watch mode, and the gateway under `node --watch`, which
 * restarts it whenever a compiled file changes. Both stop together. Node's own watch mode and tsc's
 * are enough here; a runner such as tsx or nodemon would only add a dependency (tsx pulls esbuild,
 * which has an install script).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Where the compiled files go: dist/, or elsewhere in the repository for the test of this script,
// which must not rewrite the dist/ other tests run.
const outDir = process.env.DEV_OUT_DIR ?? 'dist';
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
const children = [];
let gateway;

function stop(code) {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(0));

const compiler = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir, '--watch', '--preserveWatchOutput'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(compiler);
compiler.on('exit', (code) => stop(code ?? 1));
compiler.stdout.setEncoding('utf8');
compiler.stdout.on('data', (text) => {
  process.stdout.write(text.replace(/^/gm, '[tsc] '));
  // The first "Watching for file changes" follows the first full build: only then is dist/ whole.
  if (!gateway && /Found \d+ errors?\. Watching for file changes/.test(text)) {
    gateway = spawn(process.execPath, [`--watch-path=${outDir}`, '--watch-preserve-output', `${outDir}/index.js`], { cwd: root, stdio: 'inherit' });
    children.push(gateway);
    gateway.on('exit', (code) => stop(code ?? 1));
  }
});
