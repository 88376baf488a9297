"""torch networks for the classification stand-ins (imported lazily; FULL / opt-in only).

No torchvision: the CIFAR ResNet-18 is written in plain `torch.nn`."""
from __future__ import annotations

from ._validate import one_of, positive_int


def mlp(widths, act: str = "tanh"):
    """Plain MLP `widths[0] → … → widths[-1]` with `act` between layers (torch.nn.Sequential)."""
    import torch.nn as nn

    if len(widths) < 2:
        raise ValueError(f"widths must list at least input and output sizes; got {widths!r}")
    one_of("act", act, ("tanh", "relu"))
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.Tanh() if act == "tanh" else nn.ReLU())
    return nn.Sequential(*layers)


def _basic_block():
    import torch.nn as nn
    import torch.nn.functional as F

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.short = nn.Sequential()
            if stride != 1 or cin != cout:
                self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.b1(self.c1(x)))
            return F.relu(self.b2(self.c2(out)) + self.short(x))

    return BasicBlock


def resnet18_cifar(num_classes: int = 10):
    """ResNet-18, CIFAR variant (3×3 stem, no max-pool), in plain torch.nn."""
    import torch.nn as nn

    positive_int("num_classes", num_classes, minimum=2)
    Block = _basic_block()

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
            layers, cin = [], 64
            for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
                cin = cout
            self.layers = nn.Sequential(*layers)
            self.head = nn.Linear(512, num_classes)

        def forward(self, x):
            h = self.layers(self.stem(x))
            return self.head(h.mean(dim=(2, 3)))

    return ResNet18()


def trace_gn_hutchinson(model, x, n_probe: int = 8, generator=None) -> float:
    r"""Hutchinson estimate of $\mathrm{Tr}\,GN = \|J\|_F^2/N$ for an MSE model $f: x \mapsto \mathbb R^k$:
    $\|J\|_F^2 = E\|v^\top J\|^2$, v Rademacher over samples × outputs, one backward pass per probe.
    Evaluated in eval mode (BatchNorm would make f batch-dependent)."""
    import torch

    positive_int("n_probe", n_probe)
    was_training = model.training
    model.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    total = 0.0
    for _ in range(n_probe):
        out = model(x)
        v = torch.randint(0, 2, out.shape, generator=generator, device=out.device).to(out.dtype) * 2 - 1
        grads = torch.autograd.grad((v * out).sum(), params)
        total += float(sum((g ** 2).sum() for g in grads))
    model.train(was_training)
    return total / n_probe / x.shape[0]
