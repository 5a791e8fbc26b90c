import { EngineError, notFound } from '../errors.ts';
import type { Namespace } from '../store/namespace.ts';
import { isDigest } from '../util/digest.ts';
import { resolveImage, type Resolved } from './lookup.ts';
import { familiarString, parseReference, type Reference } from './reference.ts';

const FULL_HEX = /^[a-f0-9]{64}$/;

/**
 * dockerd's GetImage: the input must parse as an ID, a digest or a name (a malformed name is a 400 with the
 * parser's text), then it is resolved by resolveImage. A miss is a 404 with the daemon's text, which names
 * the reference with its default tag: `No such image: busybox:latest`.
 */
export function getImage(ns: Namespace, input: string): Resolved {
  const parsed = parseAnyReference(input);
  try {
    return resolveImage(ns, input);
  } catch (err) {
    if (err instanceof EngineError && err.code === 'NOT_FOUND') throw noSuchImage(input, parsed);
    throw err;
  }
}

/** Docker's 404 text for an image that is not there. */
export function noSuchImage(input: string, parsed: Reference | string = parseAnyReference(input)): EngineError {
  const shown = typeof parsed === 'string' ? parsed : familiarString(parsed.tag === undefined && !parsed.digest ? { ...parsed, tag: 'latest' } : parsed);
  return notFound(`No such image: ${shown}`);
}

/** ParseAnyReference: a bare 64-hex ID or a digest stays a digest string; anything else must be a name. */
function parseAnyReference(input: string): Reference | string {
  if (FULL_HEX.test(input)) return `sha256:${input}`;
  if (isDigest(input)) return input;
  return parseReference(input);
}
