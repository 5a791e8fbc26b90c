/** Proxy variables usable without an ARG line, and kept out of the cache and history unless declared. */
export const BUILTIN_ARGS: ReadonlySet<string> = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy']);

/** `--build-arg` values as the API sends them: a name given without a value (and not in the client's env) is null. */
export type BuildArgValues = Readonly<Record<string, string | null>>;

/**
 * Build-argument scoping of the classic builder (moby 20.10 builder/dockerfile/buildargs.go): ARGs before FROM
 * are meta args, usable in FROM and re-declarable inside a stage; an ARG is in scope from its line to the end
 * of its stage; a --build-arg overrides a default; unused --build-args are reported at the end.
 */
export class BuildArgs {
  private allowed = new Map<string, string | undefined>();
  private readonly meta = new Map<string, string | undefined>();
  private readonly referenced = new Set<string>();

  constructor(private readonly options: BuildArgValues) {}

  /** A copy for a new stage: meta args and what was referenced so far, but no stage ARGs in scope. */
  forStage(): BuildArgs {
    const copy = new BuildArgs(this.options);
    for (const [k, v] of this.meta) copy.meta.set(k, v);
    for (const k of this.referenced) copy.referenced.add(k);
    return copy;
  }

  addArg(key: string, value: string | undefined): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  addMetaArg(key: string, value: string | undefined): void {
    this.meta.set(key, value);
  }

  mergeReferenced(other: BuildArgs): void {
    for (const k of other.referenced) this.referenced.add(k);
  }

  /** Values of the ARGs in scope (plus proxy args that were given), by the classic builder's precedence. */
  allowedValues(): Map<string, string> {
    return this.valuesFrom(this.allowed);
  }

  /** Values usable in FROM lines. */
  metaValues(): Map<string, string> {
    return this.valuesFrom(this.meta);
  }

  /**
   * `K=V` for every build arg in scope that an ENV of the same name does not shadow: the extra environment
   * of RUN steps and the candidates for the history/cache prefix.
   */
  filterAllowed(env: readonly string[]): string[] {
    const envKeys = new Set(env.map((e) => e.split('=', 1)[0]!));
    const out: string[] = [];
    for (const [k, v] of this.allowedValues()) if (!envKeys.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  /** A proxy arg counts for cache and history only when declared with ARG. */
  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_ARGS.has(key);
  }

  /** --build-args no ARG used (proxy args excepted), sorted. */
  unused(): string[] {
    return Object.keys(this.options).filter((k) => !BUILTIN_ARGS.has(k) && !this.referenced.has(k)).sort();
  }

  private valuesFrom(source: Map<string, string | undefined>): Map<string, string> {
    const out = new Map<string, string>();
    for (const key of new Set([...source.keys(), ...BUILTIN_ARGS])) {
      const value = this.lookup(key, source);
      if (value !== undefined) out.set(key, value);
    }
    return out;
  }

  private lookup(key: string, source: Map<string, string | undefined>): string | undefined {
    const given = Object.hasOwn(this.options, key) ? this.options[key] : undefined;
    if (given !== undefined && given !== null) return given;
    // Declared without a default (or not declared at all): the meta arg's value, if any.
    return source.get(key) ?? this.meta.get(key) ?? undefined;
  }
}
