import { spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fs, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { helloElf } from '../../runtime/catalog/hello-elf.ts';
import { HELLO_MESSAGE } from '../../runtime/catalog/hello-world.ts';

// These tests execute the generated program on the host. That is safe only because its bytes come from our
// own generator, never from an image or a learner.
const dir = mkdtempSync(path.join(os.tmpdir(), 'layerlab-hello-elf-'));
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

async function writeProgram(name: string, message: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, helloElf(message), { mode: 0o755 });
  return file;
}

describe('helloElf', () => {
  it('has the ELF header and segments the kernel needs', () => {
    const elf = helloElf('x\n');
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf[4]).toBe(2); // 64-bit
    expect(elf[5]).toBe(1); // little-endian
    expect(elf.readUInt16LE(16)).toBe(2); // ET_EXEC
    expect(elf.readUInt16LE(18)).toBe(62); // x86-64
    const phoff = Number(elf.readBigUInt64LE(32));
    expect(elf.readUInt16LE(56)).toBe(2);
    const load = elf.subarray(phoff, phoff + 56);
    expect(load.readUInt32LE(0)).toBe(1); // PT_LOAD
    expect(load.readUInt32LE(4)).toBe(5); // R+X, not writable
    expect(Number(load.readBigUInt64LE(32))).toBe(elf.length); // the whole file is mapped
    const entry = Number(elf.readBigUInt64LE(24)) - Number(load.readBigUInt64LE(16));
    expect(entry).toBeGreaterThanOrEqual(64 + 2 * 56);
    expect(elf.subarray(entry, entry + 3)).toEqual(Buffer.from([0x48, 0x8d, 0x35])); // lea rsi, [rip+message]
    const stack = elf.subarray(phoff + 56, phoff + 112);
    expect(stack.readUInt32LE(0)).toBe(0x6474e551); // PT_GNU_STACK
    expect(stack.readUInt32LE(4) & 1).toBe(0); // the stack is not executable
    expect(elf.subarray(elf.length - 2).toString()).toBe('x\n');
  });

  it('prints its message and exits 0 when run', async () => {
    const file = await writeProgram('hello', HELLO_MESSAGE);
    const out = spawnSync(file, { encoding: 'utf8' });
    expect(out.error).toBeUndefined();
    expect(out.status).toBe(0);
    expect(out.stdout).toBe(HELLO_MESSAGE);
    expect(out.stderr).toBe('');
  });

  it('writes messages bigger than a pipe buffer completely, UTF-8 included', async () => {
    const message = `${'layerlab ✓ '.repeat(20_000)}\n`;
    const file = await writeProgram('big', message);
    const out = spawnSync(file, { encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(out.status).toBe(0);
    expect(out.stdout).toBe(message);
  });

  it('exits 1 when the write fails', async () => {
    const file = await writeProgram('full', 'no room\n');
    const full = openSync('/dev/full', 'w');
    try {
      const out = spawnSync(file, { stdio: ['ignore', full, 'pipe'] });
      expect(out.status).toBe(1);
    } finally {
      closeSync(full);
    }
  });
});
