/** Caps on any archive the engine reads from a learner (load, import, build context, cp, layers). */
export interface ArchiveLimits {
  /** Most entries one archive may hold. */
  maxEntries: number;
  /** Most bytes one archive may expand to (tar stream after decompression, headers included). */
  maxBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxEntries: 500_000,
  maxBytes: 8 * 1024 ** 3,
});
