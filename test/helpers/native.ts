/**
 * Whether the native backend's addon (native/, `npm run build:native`) loads here. Tests that need it
 * skip with its one-line reason when it is not built — except under CI, where .ci/run builds it and a
 * missing addon must fail loudly.
 */
import { loadNativeAddon } from '../../src/lib/native/addon';

export function nativeSkip(): string | false {
  try {
    loadNativeAddon();
    return false;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (process.env.CI) throw new Error(`CI must run the native backend's tests, but ${why}`);
    return why;
  }
}
