// Every setting of the app in one place.
export const config = {
  /** The copy is wiped when it has not synced for this long. */
  wipeAfterHours: 72,
  /** PBKDF2-SHA-256 rounds for the key that encrypts the copy. */
  pbkdf2Iterations: 600_000,
  /** Records a sync page asks for (the API allows 1 to 2,000). */
  syncPageLimit: 500,
  /** Operations one upload sends (the API allows up to 200). */
  uploadBatch: 100,
  /** How often the copy is pulled while the app is open and online. */
  pullEverySeconds: 60,
  /** Upload retries back off from this, doubling, up to the maximum. */
  retryFirstSeconds: 2,
  retryMaxSeconds: 300,
  /** Database names: one per account, named by staff id. */
  databasePrefix: 'casework-',
  /** The only key the app keeps in localStorage: this device's name (no casework). */
  deviceNameKey: 'casework.device_name',
  /** How long opening waits for the browser's storage before showing sign-in. */
  openTimeoutMs: 5000,
};
