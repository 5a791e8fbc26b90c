/**
 * The offline catalog is an OCI image layout (image-spec image-layout.md): `oci-layout`, `index.json`, and
 * `blobs/sha256/<hex>`. Each manifest in the index names its image with the annotations below.
 */
export const REF_NAME_ANNOTATION = 'io.containerd.image.name';
export const TAG_ANNOTATION = 'org.opencontainers.image.ref.name';
export const DESCRIPTION_ANNOTATION = 'org.opencontainers.image.description';
/** Set to `true` on the index entries of system images (runtime/catalog/recipe.ts `system`). */
export const SYSTEM_ANNOTATION = 'io.layerlab.catalog.system';
/** Layer descriptors carry their content size so imports need not read the layer. */
export const LAYER_SIZE_ANNOTATION = 'io.layerlab.layer.size';

export { DOCKER_MANIFEST as MANIFEST_MEDIA_TYPE, DOCKER_CONFIG as CONFIG_MEDIA_TYPE } from '../image/media-types.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}
