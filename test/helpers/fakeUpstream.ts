/**
 * A scriptable HTTP server for fault tests: each request's answer (or misbehaviour) comes from a
 * script, so tests can reproduce the network failures a real Rocket.Chat or a proxy in front of it
 * can produce, which the well-behaved demo upstream never does.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DEMO_VISITORS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
}

export type FakeReply = {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. Default ''. */
  body?: string | object;
  /** Wait this long before sending headers. */
  delayMs?: number;
  /** Never answer (until stop()). */
  hang?: boolean;
  /** Send the body slowly in chunks. */
  trickle?: { chunkBytes: number; intervalMs: number };
  /** Destroy the socket without answering. */
  resetBeforeHeaders?: boolean;
  /** Send headers and half the body (declaring the full content-length), then destroy the socket. */
  resetMidBody?: boolean;
  /** Declare the full content-length, send half, then end the socket cleanly. */
  truncated?: boolean;
  /** Stream a valid-looking JSON body of this many bytes (chunked, no content-length). */
  hugeBytes?: number;
  /** 302 with this Location. */
  redirect?: string;
};

export type FakeScript = (req: FakeRequest, callIndex: number) => FakeReply | Promise<FakeReply>;

export interface FakeUpstream {
  url: string;
  requests: FakeRequest[];
  readonly calls: number;
  /** Requests whose connection closed before their answer was complete (the client gave up). */
  readonly abandoned: number;
  setScript(script: FakeScript): void;
  reset(): void;
  stop(): Promise<void>;
}

const seedVisitor = DEMO_VISITORS.find((v) => v._id === SEED_VISITOR_ID);
const SEED_BODY = { visitor: seedVisitor, success: true };

const defaultScript: FakeScript = () => ({ status: 200, body: SEED_BODY });

const HUGE_PREFIX = '{"visitor":{"_id":"hUgEvIsItOr00001","livechatData":{"padding":"';
const HUGE_SUFFIX = '"}},"success":true}';
const HUGE_CHUNK = 64 * 1024;

function sleep(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  const lower = name.toLowerCase();
  return Object.keys(headers).some((key) => key.toLowerCase() === lower);
}

export async function startFakeUpstream(script: FakeScript = defaultScript): Promise<FakeUpstream> {
  let currentScript = script;
  let calls = 0;
  let abandoned = 0;
  const requests: FakeRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  async function answer(res: ServerResponse, socket: Socket, reply: FakeReply): Promise<void> {
    if (reply.delayMs !== undefined && reply.delayMs > 0) await sleep(reply.delayMs, timers);
    if (stopped || socket.destroyed) return;

    if (reply.hang) return;
    if (reply.resetBeforeHeaders) {
      socket.destroy();
      return;
    }
    if (reply.redirect !== undefined) {
      res.writeHead(302, { Location: reply.redirect, 'Content-Length': 0, ...reply.headers });
      res.end();
      return;
    }

    const headers: Record<string, string> = { ...reply.headers };
    // A JSON content type by default, so that a malformed string body tests the parser, not the sniffing.
    if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
    const status = reply.status ?? 200;

    if (reply.hugeBytes !== undefined) {
      await streamHuge(res, socket, status, headers, reply.hugeBytes);
      return;
    }

    const raw = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const body = Buffer.from(raw);
    const half = body.subarray(0, Math.floor(body.length / 2));
    res.writeHead(status, { ...headers, 'Content-Length': body.length });

    if (reply.resetMidBody) {
      res.write(half, () => socket.destroy());
      return;
    }
    if (reply.truncated) {
      // Ending the socket itself, not the response, leaves the declared length unmet with a clean FIN.
      res.write(half, () => socket.end());
      return;
    }
    if (reply.trickle !== undefined) {
      const { chunkBytes, intervalMs } = reply.trickle;
      for (let offset = 0; offset < body.length; offset += chunkBytes) {
        if (offset > 0) await sleep(intervalMs, timers);
        if (stopped || socket.destroyed) return;
        res.write(body.subarray(offset, offset + chunkBytes));
      }
      res.end();
      return;
    }
    res.end(body);
  }

  async function streamHuge(res: ServerResponse, socket: Socket, status: number, headers: Record<string, string>, totalBytes: number): Promise<void> {
    // Without a Content-Length, Node sends the body chunked, so a client cannot reject it up front.
    res.writeHead(status, headers);
    const paddingBytes = Math.max(0, totalBytes - HUGE_PREFIX.length - HUGE_SUFFIX.length);
    res.write(HUGE_PREFIX);
    const fullChunk = Buffer.alloc(HUGE_CHUNK, 'x');
    let remaining = paddingBytes;
    while (remaining > 0) {
      if (stopped || socket.destroyed) return;
      const size = Math.min(HUGE_CHUNK, remaining);
      remaining -= size;
      const writable = res.write(size === HUGE_CHUNK ? fullChunk : fullChunk.subarray(0, size));
      if (!writable) {
        // Honour backpressure so a client that stops reading does not make us buffer the whole body.
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            socket.off('close', done);
            resolve();
          };
          res.once('drain', done);
          socket.once('close', done);
        });
      }
    }
    if (stopped || socket.destroyed) return;
    res.end(HUGE_SUFFIX);
  }

  const server = createServer((req, res) => {
    const callIndex = calls;
    calls += 1;
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://fake.invalid');
    const request: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
    };
    requests.push(request);
    res.once('close', () => {
      if (!res.writableFinished) abandoned += 1;
    });
    const socket = req.socket;
    // Requests carry no body worth reading, but draining lets keep-alive reuse work.
    req.resume();
    Promise.resolve()
      .then(() => currentScript(request, callIndex))
      .then((reply) => answer(res, socket, reply))
      .catch((err: unknown) => {
        // A throwing script is a test bug; make it loud instead of hanging the client.
        if (!res.headersSent && !socket.destroyed) {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`fake upstream script failed: ${String(err)}`);
        } else {
          socket.destroy();
        }
      });
  });

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get calls() {
      return calls;
    },
    get abandoned() {
      return abandoned;
    },
    setScript(next) {
      currentScript = next;
    },
    reset() {
      requests.length = 0;
      abandoned = 0;
      calls = 0;
    },
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        stopped = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        // Hung and trickling responses would otherwise keep close() waiting forever.
        for (const socket of sockets) socket.destroy();
      });
      return stopping;
    },
  };
}
