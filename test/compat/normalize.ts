/**
 * Make two runs of the same command comparable: container IDs and names are random, times move, and image
 * IDs depend on when the catalog was built. Known image IDs become their names (`<busybox:latest>`), so
 * outputs recorded on one machine still compare on another; other IDs become <id1>, <id2>… in order.
 */
export class Normalizer {
  private readonly ids = new Map<string, string>();

  /** `images`: full image ID (64 hex) → a stable label such as `busybox:latest`. */
  constructor(private readonly images: ReadonlyMap<string, string>) {}

  apply(text: string): string {
    return text
      // The 20.10 CLI races its own wait against a failed start and sometimes logs this, whichever engine it
      // talks to (seen from a real dockerd too): not part of what the engine says.
      .replace(/^time="[^"]*" level=error msg="error waiting for container: context canceled"\n?/gm, '')
      .replace(/\b[0-9a-f]{64}\b/g, (id) => this.image(id) ?? this.label(id))
      .replace(/\b[0-9a-f]{12}\b/g, (id) => this.image(id) ?? this.label(id))
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)/g, '<time>')
      .replace(/(?:About an?|Less than a|\d+) (?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)(?: ago)?/g, '<duration>')
      .replace(/ {2,}/g, '  ') // table columns widen with the (normalised) values in them
      .replace(/\s+$/gm, '');
  }

  private image(id: string): string | undefined {
    for (const [full, name] of this.images) if (full.startsWith(id)) return `<${name}>`;
    return undefined;
  }

  /** Random IDs become <id1>, <id2>… in order of first appearance, consistently within one target's run. */
  private label(id: string): string {
    const key = id.slice(0, 12);
    let name = this.ids.get(key);
    if (!name) {
      name = `<id${this.ids.size + 1}>`;
      this.ids.set(key, name);
    }
    return name;
  }
}
