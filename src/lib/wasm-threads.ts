/**
 * Sets up the wasm backend. Returns the number of threads it will use.
 */
import '@tensorflow/tfjs-backend-wasm';

export async function configureWasm(): Promise<number> {
  return 1;
}
