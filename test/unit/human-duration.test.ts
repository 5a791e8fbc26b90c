import { describe, expect, it } from 'vitest';
import { humanDuration } from '../../runtime/util/human-duration.ts';
import { frame, StreamType } from '../../runtime/api/hijack.ts';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('humanDuration (go-units)', () => {
  it.each([
    [500, 'Less than a second'],
    [1 * s, '1 second'],
    [9 * s, '9 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [2 * m, '2 minutes'],
    [59 * m, '59 minutes'],
    [60 * m, 'About an hour'],
    [89 * m, 'About an hour'],
    [90 * m, '2 hours'],
    [47 * h, '47 hours'],
    [48 * h, '2 days'],
    [13 * d, '13 days'],
    [14 * d, '2 weeks'],
    [59 * d, '8 weeks'],
    [60 * d, '2 months'],
    [729 * d, '24 months'],
    [730 * d, '2 years'],
  ])('%i ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('stdcopy frames', () => {
  it('matches the frames captured from dockerd', () => {
    expect(frame(StreamType.Stdout, Buffer.from('out\n'))).toEqual(Buffer.from('\x01\x00\x00\x00\x00\x00\x00\x04out\n', 'latin1'));
    expect(frame(StreamType.Stderr, Buffer.from('err\n'))).toEqual(Buffer.from('\x02\x00\x00\x00\x00\x00\x00\x04err\n', 'latin1'));
  });
});
