/**
 * The container images this project builds: one per component, each from its
 * own Dockerfile with the repository root as the build context. The names and
 * the tag are the ones the Kubernetes manifests in k8s/ refer to.
 *
 * @module
 */

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the build context of every image. */
export const REPO_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** One image to build. */
export interface ImageSpec {
  /** Short name used by `--only`, e.g. `model`. */
  component: string;
  /** Repository part of the image name, e.g. `resnet-model`. */
  name: string;
  /** Dockerfile path relative to the repository root. */
  dockerfile: string;
}

/** The tag the manifests use. */
export const DEFAULT_TAG = "local";

/** Every image, in build order. */
export const IMAGES: readonly ImageSpec[] = [
  { component: "model", name: "resnet-model", dockerfile: "model/Dockerfile" },
  { component: "dispatcher", name: "resnet-dispatcher", dockerfile: "dispatcher/Dockerfile" },
  { component: "autoscaler", name: "resnet-autoscaler", dockerfile: "autoscaler/Dockerfile" },
];
