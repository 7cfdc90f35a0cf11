/**
 * The contract between the control loop and whatever runs replicas: local
 * processes on one machine, or a Kubernetes Deployment.
 *
 * @module
 */

/** Runs replicas; the loop only reads and sets their count. */
export interface Scaler {
  /** Short name for logs, e.g. `local` or `kubernetes`. */
  readonly kind: string;
  /** Replicas that are ready to serve now. */
  current(): Promise<number>;
  /**
   * Brings the fleet to `replicas`, waiting until new replicas are ready and
   * removed ones have drained.
   */
  scaleTo(replicas: number): Promise<void>;
  /** Stops what the scaler itself started; a no-op for remote fleets. */
  close(): Promise<void>;
}
