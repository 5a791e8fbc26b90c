import type { Namespace } from '../store/namespace.ts';
import type { Store } from '../store/store.ts';
import type { Digest } from '../util/digest.ts';

/** A container created from an image, as the image commands need to see it. */
export interface ImageUser {
  /** Full container ID. */
  id: string;
  running: boolean;
}

/**
 * The containers of this namespace created from an image. The image service takes it as a dependency so the
 * container service can plug itself in; without containers nothing uses any image.
 */
export type ContainersUsingImage = (imageId: Digest) => readonly ImageUser[];

export const noContainers: ContainersUsingImage = () => [];

/** What every image operation works on: the shared store, one namespace of names, and its containers. */
export interface ImageContext {
  store: Store;
  ns: Namespace;
  containersUsingImage: ContainersUsingImage;
}
