/**
 * Which operations run for a set of taps. A convolution fuses with what only it feeds: a ZeroPadding2D
 * before it (becoming its explicit padding), a BatchNormalization after it (folded into its kernel and
 * bias, fold.ts) and an activation after that (fused into the kernel call). A fused run cannot show its
 * inner layers, so a chain is cut after every layer asked for as a tap: a tapped convolution runs with
 * its own kernel, and its BN then runs as the per-channel affine map, both exact. Layers no tap needs
 * do not run.
 */
import { ancestors, consumers, type Activation, type ConvOp, type LayerNode, type Topology } from './topology';

/** A convolution and the layers that may fuse with it, in graph order. */
export interface Chain {
  readonly pad?: LayerNode;
  readonly conv: LayerNode;
  readonly norm?: LayerNode;
  readonly act?: LayerNode;
}

export type Step =
  | {
      readonly kind: 'conv';
      /** The layer whose value it writes: the chain's last layer in this run. */
      readonly output: string;
      readonly input: string;
      readonly conv: LayerNode;
      /** The BN folded into the kernel, if it runs fused. */
      readonly norm?: LayerNode;
      /** The ZeroPadding2D merged into the padding, if it runs fused. */
      readonly pad?: LayerNode;
      readonly activation: Activation;
    }
  /** One layer on its own (a BN as its affine map). */
  | { readonly kind: 'layer'; readonly output: string; readonly node: LayerNode };

const members = (c: Chain): LayerNode[] => [c.pad, c.conv, c.norm, c.act].filter((n): n is LayerNode => n !== undefined);

/** Every convolution's chain, by the name of each of its members. */
export function findChains(topology: Topology): Map<string, Chain> {
  const byName = new Map(topology.nodes.map((n) => [n.name, n]));
  const users = consumers(topology);
  const soleUser = (n: LayerNode) => (users.get(n.name)!.length === 1 ? byName.get(users.get(n.name)![0]!)! : undefined);
  const chains = new Map<string, Chain>();
  for (const conv of topology.nodes) {
    const op = conv.op;
    if (op.op !== 'conv') continue;
    const source = byName.get(conv.inputs[0]!)!;
    const zeros = source.op;
    // Merged into a VALID convolution's padding; the transposed convolution's k − 1 − p must not be negative.
    const pad = zeros.op === 'pad' && op.padding === 'valid' && soleUser(source) === conv && zeros.pads.every((p, axis) => p.every((v) => v <= op.kernel[axis]! - 1)) ? source : undefined;
    const next = op.activation === 'linear' ? soleUser(conv) : undefined;
    const norm = next?.op.op === 'batchnorm' ? next : undefined;
    const after = op.activation === 'linear' ? soleUser(norm ?? conv) : undefined;
    const act = after?.op.op === 'activation' ? after : undefined;
    const chain: Chain = { conv, ...(pad ? { pad } : {}), ...(norm ? { norm } : {}), ...(act ? { act } : {}) };
    for (const m of members(chain)) chains.set(m.name, chain);
  }
  return chains;
}

/** The steps that compute `taps`, in graph order; the input layer's value is given, not computed. */
export function planSteps(topology: Topology, chains: ReadonlyMap<string, Chain>, taps: readonly string[]): Step[] {
  const tapped = new Set(taps);
  const needed = ancestors(topology, taps);
  const steps: Step[] = [];
  for (const node of topology.nodes) {
    if (!needed.has(node.name) || node.op.op === 'input') continue;
    const chain = chains.get(node.name);
    if (!chain) {
      steps.push({ kind: 'layer', output: node.name, node });
      continue;
    }
    // The chain's segment holding this node: cut after each tap and after the last layer needed.
    const list = members(chain).filter((m) => needed.has(m.name));
    const i = list.indexOf(node);
    let start = i;
    while (start > 0 && !tapped.has(list[start - 1]!.name)) start--;
    let end = i;
    while (end < list.length - 1 && !tapped.has(list[end]!.name)) end++;
    const segment = list.slice(start, end + 1);
    if (!segment.includes(chain.conv)) {
      steps.push({ kind: 'layer', output: node.name, node });
    } else if (i === end) {
      const within = (m: LayerNode | undefined) => (m && segment.includes(m) ? m : undefined);
      const pad = within(chain.pad);
      const norm = within(chain.norm);
      const act = within(chain.act);
      const convOp = chain.conv.op as ConvOp;
      steps.push({
        kind: 'conv',
        output: node.name,
        input: (pad ?? chain.conv).inputs[0]!,
        conv: chain.conv,
        ...(norm ? { norm } : {}),
        ...(pad ? { pad } : {}),
        activation: act ? (act.op as Extract<LayerNode['op'], { op: 'activation' }>).activation : convOp.activation,
      });
    }
  }
  return steps;
}
