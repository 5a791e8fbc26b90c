/**
 * The recent output of a terminal, kept so that a reloaded page (or a second tab) starts with what the
 * learner last saw. Bounded by bytes; trimming starts at a line break where one is near, so the replay
 * does not begin in the middle of an escape sequence more often than it must.
 */
export class Scrollback {
  private chunks: string[] = [];
  private length = 0;

  constructor(private readonly maxChars: number) {}

  push(text: string): void {
    this.chunks.push(text);
    this.length += text.length;
    if (this.length > this.maxChars * 2) this.compact();
  }

  text(): string {
    this.compact();
    return this.chunks[0] ?? '';
  }

  private compact(): void {
    let all = this.chunks.join('');
    if (all.length > this.maxChars) {
      const cut = all.length - this.maxChars;
      const newline = all.indexOf('\n', cut);
      all = all.slice(newline >= 0 && newline - cut < 4096 ? newline + 1 : cut);
    }
    this.chunks = all ? [all] : [];
    this.length = all.length;
  }
}
