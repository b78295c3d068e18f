/**
 * Papers as data: every preset's values are the ones its sources state (the table below is their
 * transcription, checked against the presets and against what resolveConfig makes of them), every value
 * names its source, explicit options override a preset from the CLI, config files and sweeps, and
 * `nst presets` shows them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseOptions } from '../src/cli/options';
import { DEFAULT_CONFIG, resolveConfig, type RunConfig } from '../src/lib/config';
import { NstError } from '../src/lib/errors';
import { findPreset, PAPERS, PRESET_NAMES } from '../src/lib/papers/presets';
import { expandSweep } from '../src/lib/sweep/expand';
import { parseSweepSpec } from '../src/lib/sweep/spec';

const VGG_STYLE = ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'];
const ADAIN_STYLE = ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1'];

/** The sources, transcribed: what each preset must set. */
const EXPECTED: Record<string, Partial<RunConfig>> = {
  gatys2015: {
    contentLayers: [], contentWeight: 0, styleLayers: ['conv1_1', 'pool1', 'pool2', 'pool3', 'pool4'], normalization: 'gatys2016',
    styleLayerWeighting: 'mean', styleWeight: 1, pooling: 'avg', init: 'noise', optimizer: 'lbfgs', imageSize: 256, iterations: 500,
  },
  gatys2016: {
    contentLayers: ['conv4_2'], styleLayers: VGG_STYLE, normalization: 'gatys2016', styleLayerWeighting: 'mean', contentWeight: 1,
    styleWeight: 1e3, pooling: 'avg', init: 'noise', optimizer: 'lbfgs', imageSize: 512, iterations: 500,
  },
  'gatys2016:code': {
    contentLayers: ['conv4_2'], styleLayers: VGG_STYLE, normalization: 'gatys-code', styleLayerWeighting: 'normalization', contentWeight: 1,
    styleWeight: 1, pooling: 'max', init: 'content', optimizer: 'lbfgs', lineSearch: 'none', historySize: 100, imageSize: 512, iterations: 500,
  },
  gatys2017: {
    contentLayers: ['conv4_2'], contentWeight: 1, styleLayers: VGG_STYLE, styleLayerWeighting: 'inverse-square', styleWeight: 1e3,
    normalization: 'gatys2016', imageSize: 500, iterations: 500, optimizer: 'lbfgs', pooling: 'max',
  },
  'gatys2017:code': {
    contentLayers: ['conv4_2'], contentWeight: 1, styleLayers: VGG_STYLE, styleLayerWeighting: 'inverse-square', styleWeight: 1e3,
    normalization: 'gatys-code', imageSize: 500, iterations: 500, optimizer: 'lbfgs', pooling: 'max',
  },
  li_wand2016: {
    styleLoss: 'mrf', styleLayers: ['conv3_1', 'conv4_1'], styleLayerWeighting: 'sum', styleWeight: 1, mrfPatchSize: 3, mrfStride: 1,
    contentLayers: ['conv4_2'], normalization: 'gatys2016', contentWeight: 2, tvWeight: 2e-3, imageSize: 384, iterations: 200, init: 'noise',
    optimizer: 'lbfgs', pooling: 'max',
  },
  'li_wand2016:code': {
    styleLoss: 'mrf', styleLayers: ['conv3_1', 'conv4_1'], styleLayerWeighting: 'sum', styleWeight: 1e-4, mrfPatchSize: 3, mrfStride: 2,
    contentLayers: ['conv4_1'], normalization: 'johnson', contentWeight: 20, tvWeight: 1e-3, imageSize: 384, iterations: 100, init: 'content',
    optimizer: 'lbfgs', historySize: 25, pooling: 'max',
  },
  huang2017: {
    styleLoss: 'mean-std-l2', styleLayers: ADAIN_STYLE, styleLayerWeighting: 'sum', contentLayers: ['conv4_1'], normalization: 'johnson',
    contentWeight: 1, styleWeight: 1e-2, pooling: 'max', optimizer: 'lbfgs', iterations: 500, init: 'noise', imageSize: 512,
  },
  'huang2017:code': {
    styleLoss: 'mean-std', styleLayers: ADAIN_STYLE, styleLayerWeighting: 'sum', styleLayerWeights: [128, 256, 512, 1024], contentLayers: ['conv4_1'],
    normalization: 'johnson', contentWeight: 1, styleWeight: 1e-2, pooling: 'max', optimizer: 'lbfgs', iterations: 500, init: 'noise', imageSize: 512,
  },
};

const STYLE = { content: 'c.jpg', style: ['s.jpg'] };

describe('the presets', () => {
  it('are exactly the papers and their code variants', () => {
    assert.deepEqual([...PRESET_NAMES].sort(), Object.keys(EXPECTED).sort());
    assert.deepEqual(PAPERS.map((p) => p.id), ['gatys2015', 'gatys2016', 'gatys2017', 'li_wand2016', 'huang2017']);
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}: its values are its sources', and resolveConfig keeps them`, () => {
      const preset = findPreset(name);
      const values = Object.fromEntries(Object.entries(preset.values).map(([k, s]) => [k, s!.value]));
      assert.deepEqual(values, expected);
      const cfg = resolveConfig({ ...STYLE, preset: name });
      assert.equal(cfg.preset, name);
      for (const [key, v] of Object.entries(expected)) assert.deepEqual(cfg[key as keyof RunConfig], v, key);
      // Everything else stays at its default.
      for (const key of Object.keys(DEFAULT_CONFIG) as (keyof RunConfig)[]) {
        if (!(key in expected) && !['content', 'style', 'preset'].includes(key)) assert.deepEqual(cfg[key], DEFAULT_CONFIG[key], key);
      }
    });
  }

  it('every value names a source, and values no source states say "assumed"', () => {
    for (const name of PRESET_NAMES) {
      for (const [key, s] of Object.entries(findPreset(name).values)) {
        assert.ok(s!.source.trim().length > 10, `${name} ${key}: no source`);
        const cites = /§|eq\.|fig\.|L\d|cell \d|\.lua|\.py|\.ipynb|pystiche|texture synthesis|L-BFGS|assumed/.test(s!.source);
        assert.ok(cites, `${name} ${key}: '${s!.source}' cites nothing`);
      }
    }
    assert.match(findPreset('gatys2016').values.iterations!.source, /^assumed/);
    assert.match(findPreset('huang2017').values.optimizer!.source, /^assumed/);
  });

  it('the code variant repeats only the values the code gives; the paper variant is the default', () => {
    assert.equal(findPreset('gatys2016:paper').name, 'gatys2016');
    assert.equal(resolveConfig({ ...STYLE, preset: 'gatys2016:paper' }).preset, 'gatys2016');
    for (const paper of PAPERS) {
      for (const note of paper.notes) assert.ok(note.length > 0);
      assert.ok(paper.notes.some((n) => /^taps: /.test(n)), `${paper.id} says where its taps sit`);
    }
  });

  it('unknown names and variants are refused with the list of presets', () => {
    const rejects = (preset: string, pattern: RegExp) =>
      assert.throws(() => resolveConfig({ ...STYLE, preset }), (e: unknown) => e instanceof NstError && pattern.test(`${e.message} ${e.hint}`));
    rejects('gatys2018', /--preset.*no preset 'gatys2018'.*gatys2015, gatys2016, gatys2016:code/);
    rejects('gatys2016:notebook', /'notebook' is not a variant/);
    rejects('gatys2015:code', /gatys2015 has no code variant/);
  });
});

describe('explicit options override a preset', () => {
  it('on the command line: --preset plus an option gives the option', () => {
    const { config } = parseOptions(['--preset', 'gatys2016:code', '--init', 'noise', '--style-weight', '5', '--content', 'c.jpg', '--style', 's.jpg']);
    const cfg = resolveConfig(config);
    assert.equal(cfg.init, 'noise');
    assert.equal(cfg.styleWeight, 5);
    assert.equal(cfg.normalization, 'gatys-code');
    assert.equal(cfg.pooling, 'max');
    assert.equal(cfg.preset, 'gatys2016:code');
  });

  it('in a config file with the command line on top, as nst run merges them', () => {
    const fromFile = { preset: 'li_wand2016', iterations: 50, style: ['s.jpg'] };
    const cfg = resolveConfig({ ...fromFile, ...parseOptions(['--mrf-stride', '2']).config });
    assert.deepEqual([cfg.styleLoss, cfg.iterations, cfg.mrfStride, cfg.imageSize], ['mrf', 50, 2, 384]);
  });

  it('in a sweep: the preset is one parameter, base values override every preset', () => {
    const spec = parseSweepSpec({ name: 'papers', base: { ...STYLE, iterations: 10 }, parameters: { preset: { values: ['gatys2016', 'gatys2016:code', 'huang2017'] } } });
    const runs = expandSweep(spec, { out: '/tmp/nst-unused' }).runs;
    assert.deepEqual(runs.map((r) => [r.config.preset, r.config.normalization, r.config.iterations]), [
      ['gatys2016', 'gatys2016', 10],
      ['gatys2016:code', 'gatys-code', 10],
      ['huang2017', 'johnson', 10],
    ]);
  });

  it('a resolved config resolves to itself (sessions resolve again)', () => {
    for (const name of PRESET_NAMES) {
      const cfg = resolveConfig({ ...STYLE, preset: name, seed: 3 });
      assert.deepEqual(resolveConfig(cfg), cfg, name);
    }
  });

  it('a preset\'s per-layer weights cannot silently outlive its layers', () => {
    assert.throws(
      () => resolveConfig({ ...STYLE, preset: 'huang2017:code', styleLayers: ['conv1_1', 'conv2_1'] }),
      (e: unknown) => e instanceof NstError && /huang2017:code sets per-layer style weights/.test(e.message) && /--style-layer-weights/.test(e.hint ?? ''),
    );
    const cfg = resolveConfig({ ...STYLE, preset: 'huang2017:code', styleLayers: ['conv1_1', 'conv2_1'], styleLayerWeights: [] });
    assert.deepEqual([cfg.styleLayers, cfg.styleLayerWeights, cfg.styleLayerWeighting], [['conv1_1', 'conv2_1'], [], 'sum']);
  });
});

describe('nst presets', () => {
  const nst = (...args: string[]) => execFileSync(process.execPath, ['bin/nst.mjs', 'presets', ...args], { encoding: 'utf8' });

  it('lists every preset, and shows one preset\'s values with their sources', () => {
    const list = nst();
    for (const paper of PAPERS) assert.match(list, new RegExp(`^${paper.id}`, 'm'));
    const code = nst('huang2017:code');
    assert.match(code, /\* styleLoss\s+mean-std\s+xunhuang1995\/AdaIN-style lib\/StyleINLossModule.lua L15–25/);
    assert.match(code, /^ {4}styleLayers/m, 'values equal to the paper\'s are not starred');
    const json = JSON.parse(nst('--json')) as { name: string; values: Record<string, { value: unknown; source: string }> }[];
    assert.deepEqual(json.map((p) => p.name), [...PRESET_NAMES]);
    assert.deepEqual(json.find((p) => p.name === 'gatys2016:code')!.values.init, { value: 'content', source: findPreset('gatys2016:code').values.init!.source });
  });
});
