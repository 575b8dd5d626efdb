/** Event handlers that tests of retries and dead letters subscribe. */

/** A handler that fails every delivery with `message`, so each is retried and finally dead-lettered. */
export function alwaysFails(message: string): () => never {
  return () => {
    throw new Error(message);
  };
}
