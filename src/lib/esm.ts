/**
 * Loads an ES module from code that may itself have been compiled to CommonJS.
 *
 * tslab compiles the library to CommonJS, where TypeScript rewrites `import()` into `require()`, which
 * cannot load ESM-only packages (h5wasm). A Function-built `import()` is left alone by every compiler,
 * so the same source works under tsx (ESM), tslab (CJS) and tsc.
 */
const dynamicImport = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

export function importEsm<T = any>(specifier: string): Promise<T> {
  return dynamicImport<T>(specifier);
}
