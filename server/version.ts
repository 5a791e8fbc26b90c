/** layerlab's version, shown by `docker version` as the engine version. */
export const VERSION = '0.1.0-layerlab';
