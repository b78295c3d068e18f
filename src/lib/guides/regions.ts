/**
 * Regions of spatial control (Gatys et al. 2017 §4) as the config gives them: each a mask of the
 * content image and the style image(s) whose statistics that region takes, optionally restricted to a
 * mask of each style image. Checked once here (names, paths, counts, weights) before anything is
 * loaded; the files themselves are read by guides/load.ts.
 */
import { NstError } from '../errors';

export interface RegionSpec {
  /** Names the region's terms: `style/<name>/<layer>`. Letters, digits, `_` and `-`. */
  name: string;
  /** The region's mask in the content image (white: inside, grey: a soft edge), any size. */
  contentMask: string;
  /** The region's style image(s), blended equally. */
  style: string[];
  /** One mask per style image: where in it the region's statistics come from (default: all of it). */
  styleMasks?: string[];
  /** The region's style weight, relative to `styleWeight` (default 1). */
  styleWeight?: number;
}

const KEYS = ['name', 'contentMask', 'style', 'styleMasks', 'styleWeight'];

function strings(value: unknown): unknown[] {
  return typeof value === 'string' ? [value] : Array.isArray(value) ? value : [value];
}

/**
 * The `regions` config value (a list of mappings, or its JSON text from the command line) checked and
 * normalised. Errors name the option, the region and the key.
 */
export function parseRegions(value: unknown, option = '--regions (regions)'): RegionSpec[] {
  const fail = (message: string, hint = 'each region is {name, contentMask, style: [...], styleMasks?: [...], styleWeight?}'): never => {
    throw new NstError(`${option}: ${message}`, hint);
  };
  let list = value;
  if (typeof list === 'string') {
    try {
      list = list.trim() === '' ? [] : JSON.parse(list);
    } catch {
      fail('expected a JSON list of regions', 'give the regions in a --config file (YAML or JSON)');
    }
  }
  if (!Array.isArray(list)) return fail(`expected a list of regions, got ${JSON.stringify(list)}`);
  const names = new Set<string>();
  return list.map((raw, i): RegionSpec => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail(`region ${i + 1} is not a mapping`);
    const r = raw as Record<string, unknown>;
    const unknown = Object.keys(r).find((k) => !KEYS.includes(k));
    if (unknown !== undefined) fail(`region ${i + 1} has an unknown key '${unknown}'`, `known keys: ${KEYS.join(', ')}`);
    const name = r.name;
    if (typeof name !== 'string' || !/^[\w-]+$/.test(name)) return fail(`region ${i + 1}: name ${JSON.stringify(name)} is not a term name`, 'use letters, digits, _ and -');
    if (names.has(name)) fail(`two regions are named '${name}'`, 'give each region its own name');
    names.add(name);
    const at = `region '${name}'`;
    if (typeof r.contentMask !== 'string' || r.contentMask === '') fail(`${at} has no contentMask`, 'give the mask of the region in the content image (white: inside)');
    const style = strings(r.style);
    if (style.length === 0 || style.some((s) => typeof s !== 'string' || s === '')) fail(`${at}: style must be one or more image paths`);
    const spec: RegionSpec = { name, contentMask: r.contentMask as string, style: style as string[] };
    if (r.styleMasks !== undefined) {
      const masks = strings(r.styleMasks);
      if (masks.length !== style.length || masks.some((m) => typeof m !== 'string' || m === '')) {
        fail(`${at}: ${masks.length} styleMasks for ${style.length} style images`, 'give one mask path per style image, or none (the whole style image)');
      }
      spec.styleMasks = masks as string[];
    }
    if (r.styleWeight !== undefined) {
      const w = r.styleWeight;
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) fail(`${at}: styleWeight must be a number ≥ 0, got ${JSON.stringify(w)}`);
      spec.styleWeight = w as number;
    }
    return spec;
  });
}

/** The style images of all regions, each once, in first-use order. */
export function regionStyles(regions: readonly RegionSpec[]): string[] {
  return [...new Set(regions.flatMap((r) => r.style))];
}
