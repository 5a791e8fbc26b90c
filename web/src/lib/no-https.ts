/**
 * Stands in for Node's `https` in the browser bundle. dockerfile-language-service asks Docker Hub for image
 * tags through it when completing `FROM image:`; the page has no route to the internet (and must not call
 * out), so the request fails at once and the service falls back to no tag suggestions.
 */
export function get(): never {
  throw new Error('layerlab: no network access from the editor');
}

export default { get };
