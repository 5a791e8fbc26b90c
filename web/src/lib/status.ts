/** The sandbox status shown in the top bar (and its `data-state` for tests). */
export type Status = 'connecting' | 'ready' | 'reconnecting' | 'ended' | 'full';
