import { describe, expect, it } from 'vitest';
import { humanSize, progressBar } from '../../runtime/api/routes/json-progress.ts';
import { applyChanges } from '../../runtime/image/changes.ts';

describe('import --change instructions', () => {
  it('follows Dockerfile CMD/ENTRYPOINT rules', () => {
    expect(applyChanges({ Cmd: ['old'] }, ['ENTRYPOINT ["/e"]'])).toMatchObject({ Entrypoint: ['/e'], Cmd: null });
    expect(applyChanges({ Cmd: ['old'] }, ['CMD ["a"]', 'ENTRYPOINT /e x'])).toMatchObject({ Entrypoint: ['/bin/sh', '-c', '/e x'], Cmd: ['a'] });
    expect(applyChanges({}, ['CMD []'])).toMatchObject({ Cmd: [] });
  });

  it('treats the changes as one Dockerfile: an embedded newline is another instruction, which must be allowed too', () => {
    expect(() => applyChanges({}, ['USER app\nRUN id'])).toThrow('run is not a valid change command');
    expect(applyChanges({}, ['# comment\nUSER app \\\n'])).toMatchObject({ User: 'app' });
  });

  it('validates ports, signals and arguments with clear errors', () => {
    expect(() => applyChanges({}, ['EXPOSE 70000'])).toThrow('Invalid containerPort: 70000');
    expect(() => applyChanges({}, ['STOPSIGNAL SIGNOPE'])).toThrow('Invalid signal: SIGNOPE');
    expect(() => applyChanges({}, ['ENV'])).toThrow('ENV requires at least one argument');
    expect(() => applyChanges({}, ['LABEL a="unterminated'])).toThrow(/matching "/);
    expect(applyChanges({}, ['EXPOSE 8000-8001/udp', 'STOPSIGNAL 9'])).toMatchObject({ ExposedPorts: { '8000/udp': {}, '8001/udp': {} }, StopSignal: '9' });
  });

  it('replaces an ENV key rather than duplicating it', () => {
    expect(applyChanges({ Env: ['A=1', 'B=2'] }, ['ENV A=3'])).toMatchObject({ Env: ['B=2', 'A=3'] });
  });
});

describe('progress strings', () => {
  it('formats sizes and bars as moby does for a 200-column terminal', () => {
    expect(humanSize(2048)).toBe('2.048kB');
    expect(humanSize(100_000)).toBe('100kB');
    expect(humanSize(512)).toBe('512B');
    expect(progressBar(2048, 2048)).toBe(`[${'='.repeat(50)}>]  2.048kB/2.048kB`);
    expect(progressBar(1, 4)).toBe(`[${'='.repeat(12)}>${' '.repeat(38)}]       1B/4B`);
  });
});
