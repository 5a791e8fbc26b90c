const SIGNALS = ['HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM', 'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS'];
const EXTRA: Record<string, number> = { IOT: 6, POLL: 29, CLD: 17, UNUSED: 31 };

/** moby pkg/signal ParseSignal: a number, or a name with or without `SIG`; returns the number. */
export function parseSignal(raw: string): number {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n === 0) throw new Error(`Invalid signal: ${raw}`);
    return n;
  }
  const name = raw.toUpperCase().replace(/^SIG/, '');
  const rt = /^RTMIN(?:\+(\d+))?$|^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) return rt[0].startsWith('RTMIN') ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[2] ?? 0);
  const index = SIGNALS.indexOf(name);
  if (index >= 0) return index + 1;
  if (name in EXTRA) return EXTRA[name]!;
  throw new Error(`Invalid signal: ${raw}`);
}
