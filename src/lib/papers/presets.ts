/**
 * The paper presets (`--preset gatys2016`, `--preset gatys2016:code`, `preset:` in configs and sweeps):
 * a paper's values, or its code's where they differ, put under whatever the config gives explicitly.
 */
import type { RunConfig } from '../config';
import { NstError } from '../errors';
import { GATYS_2015 } from './gatys2015';
import { GATYS_2016 } from './gatys2016';
import { GATYS_2017 } from './gatys2017';
import { HUANG_2017 } from './huang2017';
import { LI_WAND_2016 } from './li-wand2016';
import { VARIANTS, type Paper, type SourcedValues, type Variant } from './paper';

export const PAPERS: readonly Paper[] = [GATYS_2015, GATYS_2016, GATYS_2017, LI_WAND_2016, HUANG_2017];

/** Every preset name: `<id>` (the paper) and `<id>:code` where the code differs. */
export const PRESET_NAMES: readonly string[] = PAPERS.flatMap((p) => [p.id, ...(p.codeDiffers ? [`${p.id}:code`] : [])]);

export interface Preset {
  paper: Paper;
  variant: Variant;
  /** `gatys2016` or `gatys2016:code` (`:paper` is dropped). */
  name: string;
  values: SourcedValues;
}

const OPTION = '--preset (preset)';

/** Looks a preset up by name; an unknown one lists the others. */
export function findPreset(name: string): Preset {
  const [id, variant = 'paper', ...rest] = name.split(':');
  const paper = PAPERS.find((p) => p.id === id);
  const hint = `presets: ${PRESET_NAMES.join(', ')} (nst presets lists their values and sources)`;
  if (!paper || rest.length > 0) throw new NstError(`${OPTION}: no preset '${name}'`, hint);
  if (!(VARIANTS as readonly string[]).includes(variant)) throw new NstError(`${OPTION}: '${variant}' is not a variant; use paper or code`, hint);
  if (variant === 'code' && !paper.codeDiffers) throw new NstError(`${OPTION}: ${paper.id} has no code variant`, `${paper.id} alone: its code does what the paper says, or there is none`);
  const values = variant === 'code' ? { ...paper.paper, ...paper.codeDiffers } : paper.paper;
  return { paper, variant: variant as Variant, name: variant === 'code' ? `${paper.id}:code` : paper.id, values };
}

/**
 * The config values a preset sets, with `preset` itself in its canonical spelling, to be put under
 * the explicit ones. A preset's per-layer weights belong to its layers: overriding the style layers
 * alone would leave them mismatched, which is refused here with a hint rather than later as a count.
 */
export function presetConfig(name: string, explicit: Readonly<Record<string, unknown>>): Partial<RunConfig> {
  const preset = findPreset(name);
  if (preset.values.styleLayerWeights && explicit.styleLayers !== undefined && explicit.styleLayerWeights === undefined) {
    throw new NstError(
      `${OPTION}: ${preset.name} sets per-layer style weights for ${preset.values.styleLayers?.value.join(',')}, and --style-layers replaces those layers`,
      'give --style-layer-weights for the new layers too (or --style-layer-weighting with an empty --style-layer-weights)',
    );
  }
  const values = Object.fromEntries(Object.entries(preset.values).map(([k, s]) => [k, structuredClone(s!.value)]));
  return { ...values, preset: preset.name };
}
