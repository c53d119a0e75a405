// Layered Images (spec.base.image): walking an Image's ancestry up to the Image on a catalog base.
// Pure; the caller passes a lookup of Images in the same namespace.
import type { Image } from "../api/v1alpha1/index.js";

/** Ancestry deeper than this is refused (and would be a cycle the walk has not closed yet). */
export const MAX_DEPTH = 64;

export type Ancestry =
  | { root: Image; parents: Image[]; problem?: undefined }
  | { problem: "NotFound" | "Cycle"; missing?: string; path: string[]; root?: undefined };

/**
 * The parents of `image` (nearest first) and its root, the ancestor on a catalog base; for an
 * Image on a catalog base, itself. A missing ancestor or a cycle is reported with the path walked.
 */
export function ancestry(image: Image, lookup: (name: string) => Image | undefined): Ancestry {
  const path = [image.metadata?.name ?? ""];
  const parents: Image[] = [];
  let current = image;
  while (current.spec.base.image) {
    const parentName = current.spec.base.image;
    if (path.includes(parentName) || path.length > MAX_DEPTH) {
      return { problem: "Cycle", path: [...path, parentName] };
    }
    const parent = lookup(parentName);
    if (!parent) return { problem: "NotFound", missing: parentName, path };
    path.push(parentName);
    parents.push(parent);
    current = parent;
  }
  return { root: current, parents };
}
