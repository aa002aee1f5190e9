/**
 * How long each bounded wait on the host may last, defined once: the stack writes them
 * to the host (bootstrap.env, host.env) and derives the deploy association's timeout
 * from them, so the association can never be cut off by SSM while the host is still
 * legitimately waiting (for cloud-init, for the lock, for DNS).
 */
export const HOST_TIMING = {
  /** dnf attempts for the host's packages (a network blip while the Elastic IP is associated). */
  packageAttempts: 5,
  /** Upper bound of one package step: attempts with their back-off and the downloads. */
  packageSeconds: 900,
  /** The bounded wait for the domain to resolve to the host before certbot. */
  dnsWaitSeconds: 1800,
  /** certbot, nginx, the app and its socket, the renewal timer: everything else in setup. */
  restOfSetupSeconds: 900,
  /** How often a failed first-boot setup is tried again by the host's own timer. */
  setupRetrySeconds: 900,
} as const;

/** One whole setup run, bounded. */
export const SETUP_SECONDS = HOST_TIMING.packageSeconds + HOST_TIMING.dnsWaitSeconds + HOST_TIMING.restOfSetupSeconds;

/** The association first waits for cloud-init (the first boot's setup), bounded by this. */
export const CLOUD_INIT_WAIT_SECONDS = SETUP_SECONDS;

/** A bootstrap run waits at most this long for another one to release the lock. */
export const LOCK_WAIT_SECONDS = SETUP_SECONDS;

/**
 * The worst case of one association run: cloud-init still running the first setup, then
 * another run (the retry timer's) holding the lock, then a setup of its own (the first
 * one failed), with a margin for SSM's own start-up.
 */
export const ASSOCIATION_TIMEOUT_SECONDS = CLOUD_INIT_WAIT_SECONDS + LOCK_WAIT_SECONDS + SETUP_SECONDS + 300;
