import { shortId } from '../../util/digest.ts';
import type { BuildEvent } from './types.ts';

/** One message of Docker's JSON build stream. */
export type JsonMessage =
  | { stream: string }
  | { aux: { ID: string } }
  | { errorDetail: { code?: number; message: string }; error: string };

const RED = '\u001b[91m';
const RESET = '\u001b[0m';

/**
 * The classic builder's JSON stream (moby 20.10 builder + streamformatter) as a function of build events:
 * every daemon write is its own message, stderr is wrapped in red, the image ID goes out as `aux` after each
 * stage. In quiet mode only the final ID (and errors) are sent.
 */
export function renderEvent(event: BuildEvent, opts: { quiet?: boolean } = {}): JsonMessage[] {
  if (opts.quiet) return renderQuiet(event);
  switch (event.type) {
    case 'warning':
      return [stream(event.text, event.stream)];
    case 'step-start':
      return [{ stream: `Step ${event.step}/${event.total} : ${event.text}` }, { stream: '\n' }];
    case 'base':
      return [{ stream: ` ---> ${event.image ? shortId(event.image) : ''}\n` }];
    case 'triggers':
      return [{ stream: `# Executing ${event.count} build trigger` }, ...(event.count > 1 ? [{ stream: 's' }] : []), { stream: '\n' }];
    case 'cache':
      return event.decision.hit ? [{ stream: ' ---> Using cache\n' }] : [];
    case 'container-created':
      return [{ stream: ` ---> Running in ${shortId(event.containerId)}\n` }];
    case 'output':
      return [stream(event.text, event.stream)];
    case 'container-removed':
      return [{ stream: `Removing intermediate container ${shortId(event.containerId)}\n` }];
    case 'step-end':
      return [{ stream: ` ---> ${event.image ? shortId(event.image) : ''}\n` }];
    case 'stage-end':
      return [{ aux: { ID: event.image } }];
    case 'build-end':
      return [{ stream: `Successfully built ${shortId(event.image)}\n` }, ...event.tags.map((t) => ({ stream: `Successfully tagged ${t}\n` }))];
    case 'build-error':
      return [errorMessage(event.message, event.exitCode)];
    default:
      return [];
  }
}

function renderQuiet(event: BuildEvent): JsonMessage[] {
  if (event.type === 'build-end') return [{ stream: `${event.image}\n` }];
  if (event.type === 'build-error') return [errorMessage(event.message, event.exitCode)];
  return [];
}

function stream(text: string, which: 'stdout' | 'stderr'): JsonMessage {
  return { stream: which === 'stderr' ? `${RED}${text}${RESET}` : text };
}

function errorMessage(message: string, code?: number): JsonMessage {
  return { errorDetail: code !== undefined ? { code, message } : { message }, error: message };
}

/** Serialise one message as the daemon writes it: Go-escaped JSON followed by CRLF. */
export function encodeMessage(message: JsonMessage): string {
  const json = JSON.stringify(message).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${json}\r\n`;
}
