/** Media types of Docker and OCI images (builder-facts §4.2): one list for the store, catalog and registry. */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** An uncompressed layer: how layers made here (build, commit, load, import) are stored, as Docker keeps them. */
export const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** Whether a layer blob of this media type is gzip-compressed (pulled or catalog layers) rather than a plain tar. */
export function isGzipLayer(mediaType: string): boolean {
  return mediaType === DOCKER_LAYER || mediaType === OCI_LAYER;
}
