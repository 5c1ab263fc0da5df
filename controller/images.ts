// Image references as the controller reads them: the version a slot announces is the
// image's tag (or the first 12 hex digits of its digest), so metrics and logs stay short.

/** "registry:5000/team/app:v2" -> "v2"; "app@sha256:abc..." -> "sha256-abc123456789"; "app" -> "latest". */
export function versionOf(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) {
    const digest = image.slice(at + 1);
    const [algo, hex = ''] = digest.split(':');
    return `${algo}-${hex.slice(0, 12)}`;
  }
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > lastSlash ? image.slice(colon + 1) : 'latest';
}

/**
 * The same image, however the runtime spells it: containerd reports "docker.io/library/x:tag"
 * for "x", and an untagged reference means ":latest".
 */
export function normalizeImage(image: string): string {
  let ref = image;
  const firstSlash = ref.indexOf('/');
  const first = firstSlash < 0 ? '' : ref.slice(0, firstSlash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  if (!hasRegistry) ref = firstSlash < 0 ? `docker.io/library/${ref}` : `docker.io/${ref}`;
  const lastSlash = ref.lastIndexOf('/');
  if (!ref.includes('@') && ref.lastIndexOf(':') <= lastSlash) ref = `${ref}:latest`;
  return ref;
}

export function sameImage(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a === b || normalizeImage(a) === normalizeImage(b);
}
