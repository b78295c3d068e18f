#!/usr/bin/env python3
"""PyTorch's time per iteration for the feature networks `nst bench --network` times, as a reference.

The same work as the workbench's benchmark: forward to the deepest default tap, Gram style losses on
the network's style preset and a content loss on its content preset, then the gradient with respect to
the image only (weights frozen, eval mode). torchvision's VGG-19, InceptionV3 and MobileNetV2 with
random weights (the architecture fixes the cost, not the values), at N x N pixels, median of 5 after 2
warm-ups. Needs python3-torch and python3-torchvision (Debian).

usage: python3 scripts/torch-networks-bench.py [--size N] [--threads T] [vgg19 inception_v3 mobilenet_v2]
"""
import argparse
import time

import torch
import torchvision


def gram(f):
    _, c, h, w = f.shape
    f = f.reshape(c, h * w)
    return f @ f.t() / (h * w)


def vgg19():
    features = torchvision.models.vgg19(weights=None).features.eval()
    names, block, index = [], 1, 1
    for layer in features:
        if isinstance(layer, torch.nn.Conv2d):
            names.append(f'conv{block}_{index}')
        elif isinstance(layer, torch.nn.ReLU):
            names.append(f'relu{block}_{index}')
            index += 1
        else:
            names.append(f'pool{block}')
            block, index = block + 1, 1
    cut = names.index('relu5_1') + 1
    return list(zip(names[:cut], features[:cut])), ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'], 'relu4_2'


def inception_v3():
    m = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=False).eval()
    # Keras' layer names for torchvision's modules, up to mixed2 (Mixed_5d).
    layers = [('activation_1', m.Conv2d_1a_3x3), ('activation_2', m.Conv2d_2a_3x3), ('activation_3', m.Conv2d_2b_3x3),
              ('max_pooling2d_1', m.maxpool1), ('activation_4', m.Conv2d_3b_1x1), ('activation_5', m.Conv2d_4a_3x3),
              ('max_pooling2d_2', m.maxpool2), ('mixed0', m.Mixed_5b), ('mixed1', m.Mixed_5c), ('mixed2', m.Mixed_5d)]
    return layers, ['activation_1', 'activation_3', 'activation_5', 'mixed0', 'mixed2'], 'mixed1'


class MobileNetTaps(torch.nn.Module):
    """MobileNetV2 up to block_6's expansion, returning Keras' expand-ReLU taps: Conv1_relu is
    features[0], block_k is features[k + 1] and its expansion ReLU that block's conv[0]."""

    def __init__(self):
        super().__init__()
        self.features = torchvision.models.mobilenet_v2(weights=None).features.eval()
        f = self.features
        self.taps = {'Conv1_relu': f[0], 'block_1_expand_relu': f[2].conv[0], 'block_3_expand_relu': f[4].conv[0],
                     'block_5_expand_relu': f[6].conv[0]}

    def forward(self, x):
        out = {}
        hooks = [m.register_forward_hook(lambda _m, _i, o, n=n: out.__setitem__(n, o)) for n, m in self.taps.items()]
        h = self.features[:7](x)
        out['block_6_expand_relu'] = self.features[7].conv[0](h)
        for hook in hooks:
            hook.remove()
        return out


def mobilenet_v2():
    return [('taps', MobileNetTaps())], ['Conv1_relu', 'block_1_expand_relu', 'block_3_expand_relu', 'block_6_expand_relu'], 'block_5_expand_relu'


NETWORKS = {'vgg19': vgg19, 'inception_v3': inception_v3, 'mobilenet_v2': mobilenet_v2}


def bench(name, size):
    layers, style, content = NETWORKS[name]()
    for _, layer in layers:
        for p in layer.parameters():
            p.requires_grad_(False)
    x = torch.rand(1, 3, size, size, requires_grad=True)

    def step():
        h, taps = x, {}
        for n, layer in layers:
            h = layer(h)
            taps.update(h if isinstance(h, dict) else {n: h})
        loss = sum(gram(taps[s]).pow(2).sum() for s in style) + taps[content].pow(2).sum()
        loss.backward()
        x.grad = None

    for _ in range(2):
        step()
    times = []
    for _ in range(5):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return times[2], times[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('networks', nargs='*', default=list(NETWORKS))
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    for name in args.networks:
        if name not in NETWORKS:
            parser.error(f"unknown network '{name}' (use {', '.join(NETWORKS)})")
        median, best = bench(name, args.size)
        print(f'torch {torch.__version__} {name} {args.size} px, {args.threads} threads: median {median:.1f} ms, min {best:.1f} ms')


if __name__ == '__main__':
    main()
