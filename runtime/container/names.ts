import { randomBytes, randomInt } from 'node:crypto';
import { invalid } from '../errors.ts';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A new container ID: 64 random hex digits, as dockerd makes them. */
export function newContainerId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    // Docker avoids all-digit short IDs, which could be mistaken for numbers.
    if (!/^\d{12}/.test(id)) return id;
  }
}

/** Docker's name rule; the stored form has a leading slash. */
export function checkName(name: string): string {
  if (!NAME_RE.test(name)) throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

const ADJECTIVES = 'brave calm clever eager gentle happy jolly keen lucid merry nifty proud quirky sharp swift tender vivid witty zealous bold'.split(' ');
const NOUNS = 'turing lovelace hopper ritchie thompson torvalds knuth dijkstra liskov hamilton babbage shannon curie noether franklin goodall kepler tesla darwin euler'.split(' ');

/** A random `adjective_scientist` name in Docker's style (not Docker's word lists). */
export function randomName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
    const name = attempt < 10 ? base : `${base}${randomInt(100)}`;
    if (!taken(`/${name}`)) return `/${name}`;
  }
}
