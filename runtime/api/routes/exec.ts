import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Engine } from '../../engine.ts';
import { invalid } from '../../errors.ts';
import { execJson, type ExecConfig, type ExecRegistry } from '../../container-api/execs.ts';
import { acceptHijack, StreamType } from '../hijack.ts';
import { commonHeaders, readJsonBody, sendEmpty, sendJson, toEngineError } from '../http.ts';
import type { UpgradeContext, Router } from '../router.ts';
import { HijackSession, readUpgradeBody } from './hijack-session.ts';

interface StartBody {
  Detach?: boolean;
  Tty?: boolean;
}

/** `docker exec`: create, start (hijacked, or detached), inspect, resize (engine-api-facts §7.11). */
export function execRoutes(router: Router, engine: Engine, execs: ExecRegistry): void {
  router.on('POST', /^\/containers\/([^/]+)\/exec$/, async ({ req, res, params }) => {
    const body = (await readJsonBody<ExecConfig>(req)) ?? {};
    sendJson(res, 201, { Id: execs.create(params[0]!, body) });
  });
  router.on('GET', /^\/exec\/([^/]+)\/json$/, ({ res, params }) => {
    sendJson(res, 200, execJson(execs.get(params[0]!)));
  });
  router.on('POST', /^\/exec\/([^/]+)\/resize$/, async ({ res, params, query }) => {
    const rows = query.int('h', 0)!;
    const cols = query.int('w', 0)!;
    if (rows <= 0 || cols <= 0) throw invalid('invalid terminal size');
    await execs.resize(params[0]!, cols, rows);
    sendEmpty(res, 200);
  });
  // `exec -d`: no hijack; the process runs with its output discarded.
  router.on('POST', /^\/exec\/([^/]+)\/start$/, async ({ req, res, params }) => {
    const body = (await readJsonBody<StartBody>(req)) ?? {};
    const exec = execs.get(params[0]!);
    const { proc } = await execs.start(exec.id, body.Tty ?? exec.config.Tty === true);
    proc.stdout.resume();
    proc.stderr?.resume();
    proc.stdin?.end();
    sendEmpty(res, 200);
  });
  router.onUpgrade('POST', /^\/exec\/([^/]+)\/start$/, (ctx) => startHijacked(ctx, execs, engine));
}

/**
 * The hijacked exec start: the JSON body comes in the upgrade's head (Node does not read upgrade bodies),
 * output is framed unless Tty, and the exit code is stored before the stream closes because the CLI asks
 * for it as soon as it sees EOF (engine-api-facts §12.8).
 */
async function startHijacked({ req, socket, head, params }: UpgradeContext, execs: ExecRegistry, engine: Engine): Promise<void> {
  const body = ((await readUpgradeBody(socket, head, Number(req.headers['content-length'] ?? 0))) ?? {}) as StartBody;
  const exec = execs.get(params[0]!);
  const tty = body.Tty ?? exec.config.Tty === true;
  acceptHijack(socket, commonHeaders({ version: engine.options.version }));
  const session = new HijackSession(socket, tty);
  let started;
  try {
    started = await execs.start(exec.id, tty);
  } catch (err) {
    // After the upgrade, dockerd reports a failed start as text on the stream.
    exec.exitCode ??= 126;
    session.sendError(toEngineError(err).message);
    session.close();
    return;
  }
  const { proc, exited } = started;
  const outputs: Array<Promise<void>> = [pipeOut(proc.stdout, session, StreamType.Stdout)];
  if (proc.stderr) outputs.push(pipeOut(proc.stderr, session, StreamType.Stderr));
  if (proc.stdin) {
    const stdin = proc.stdin;
    stdin.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => stdin.write(chunk));
    socket.once('end', () => stdin.end());
  }
  socket.resume();
  const result = await exited;
  await Promise.all(outputs);
  if (result.error) session.sendError(result.error);
  session.close();
}

function pipeOut(source: Readable, session: HijackSession, type: StreamType.Stdout | StreamType.Stderr): Promise<void> {
  const sink = session.output(type);
  source.on('data', (chunk: Buffer) => sink.write(chunk));
  return finished(source, { writable: false }).catch(() => undefined);
}
