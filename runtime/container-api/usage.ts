import type { ContainerRuntime } from '../container/runtime.ts';
import type { ContainersUsingImage } from '../image/context.ts';

/** The image service's view of the runtime: which containers (any state) were created from an image. */
export function containersUsingImage(runtime: ContainerRuntime): ContainersUsingImage {
  return (imageId) => runtime.list().filter((c) => c.record.Image === imageId).map((c) => ({ id: c.record.Id, running: c.state.Running }));
}
