import type { ServerResponse } from 'node:http';
import type { WaitCondition } from '../../container/types.ts';
import type { Engine } from '../../engine.ts';
import { invalid } from '../../errors.ts';
import { fixedTime, LogReader, parseLogTime, parseTail, selectLogs, wanted, type LogEntry, type LogOptions } from '../../container-api/logs.ts';
import { acceptHijack, frame, StreamType } from '../hijack.ts';
import type { Query } from '../query.ts';
import type { Router } from '../router.ts';
import { HijackSession } from './hijack-session.ts';

const ID = '([^/]+)';
const FOLLOW_POLL_MS = 100;

/** Attach, wait and logs: the container routes that stream (engine-api-facts §3, §5, §7.10). */
export function containerStreamRoutes(router: Router, engine: Engine): void {
  router.onUpgrade('POST', new RegExp(`^/containers/${ID}/attach$`), ({ socket, head, params, query }) => {
    const { record } = engine.containers.inspect(params[0]!);
    acceptHijack(socket);
    const session = new HijackSession(socket, record.Config.Tty === true);
    if (head.length > 0) socket.unshift(head);
    const stdin = query.bool('stdin') ? socket : undefined;
    const handle = engine.containers.attach(record.Id, {
      ...(stdin ? { stdin } : {}),
      ...(query.bool('stdout') ? { stdout: session.output(StreamType.Stdout) } : {}),
      ...(query.bool('stderr') ? { stderr: session.output(StreamType.Stderr) } : {}),
    });
    // Output ends with the run; the client going away (detach keys, ctrl-c) only ends this session.
    void handle.done.then(() => session.close());
    socket.once('close', () => handle.detach());
    if (stdin && record.Config.Tty) {
      // With a TTY, stdin EOF ends this session only; the container keeps its terminal.
      socket.once('end', () => {
        handle.detach();
        session.close();
      });
    }
    socket.resume();
  });

  router.on('POST', new RegExp(`^/containers/${ID}/wait$`), async ({ res, params, query }) => {
    const condition = waitCondition(query.string('condition'));
    const waiting = engine.containers.wait(params[0]!, condition);
    // The CLI sends start only after these headers arrive (engine-api-facts §5.2).
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const result = await waiting;
    // dockerd answers a `removed` wait without the start error it reports elsewhere (checked on 20.10).
    const error = condition === 'removed' ? null : result.Error;
    if (!res.destroyed) res.end(`${JSON.stringify({ Error: error, StatusCode: result.StatusCode })}\n`);
  });

  router.on('GET', new RegExp(`^/containers/${ID}/logs$`), async ({ res, params, query }) => {
    await streamLogs(engine, res, params[0]!, query);
  });
}

function waitCondition(value: string | undefined): WaitCondition {
  if (value === undefined || value === '' || value === 'not-running') return 'not-running';
  if (value === 'next-exit' || value === 'removed') return value;
  throw invalid(`invalid condition: "${value}"`);
}

function logOptions(query: Query): LogOptions {
  const since = parseLogTime(query.string('since'), 'since');
  const until = parseLogTime(query.string('until'), 'until');
  const tail = parseTail(query.string('tail'));
  return { stdout: query.bool('stdout'), stderr: query.bool('stderr'), ...(since ? { since } : {}), ...(until ? { until } : {}), ...(tail !== undefined ? { tail } : {}) };
}

/**
 * `docker logs`: the stored json-file lines, framed unless the container has a TTY, no Content-Type (API
 * 1.41). With follow, new lines are sent as they are stored until the container stops or the client leaves.
 */
async function streamLogs(engine: Engine, res: ServerResponse, idOrName: string, query: Query): Promise<void> {
  const { record, paths } = engine.containers.inspect(idOrName);
  const opts = logOptions(query);
  if (!opts.stdout && !opts.stderr) throw invalid('Bad parameters: you must choose at least one stream');
  const tty = record.Config.Tty === true;
  const timestamps = query.bool('timestamps');
  let closed = false;
  res.on('close', () => (closed = true));
  res.writeHead(200);
  res.flushHeaders();
  const send = (entries: LogEntry[]) => {
    for (const e of entries) {
      if (closed) return;
      const data = Buffer.from(timestamps ? `${fixedTime(e.time)} ${e.log}` : e.log);
      res.write(tty ? data : frame(e.stream === 'stderr' ? StreamType.Stderr : StreamType.Stdout, data));
    }
  };
  const reader = new LogReader(paths.logPath);
  // Registered before the first read, so an exit in between is not missed.
  const stopped = query.bool('follow') ? engine.containers.wait(record.Id, 'not-running') : undefined;
  send(selectLogs(await reader.read(), opts));
  if (stopped) {
    let done = false;
    void stopped.then(() => (done = true));
    while (!done && !closed) {
      await Promise.race([stopped, new Promise((r) => setTimeout(r, FOLLOW_POLL_MS))]);
      send((await reader.read()).filter((e) => wanted(e, opts)));
    }
  }
  if (!closed) res.end();
}
