"""Helpers shared by the oracle scripts (run.sh re-runs every script when this file changes)."""
import torch


def perturb(model: torch.nn.Module, gen: torch.Generator) -> None:
    """No parameter keeps its init value: norms get random scales, every bias and mix factor becomes random."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if name.endswith("mix_factor"):
                p.copy_(noise)
            elif name.endswith(".bias"):
                p.copy_(0.1 * noise)
            elif "norm" in name.split(".")[-2]:
                p.copy_(1.0 + 0.3 * noise)
            else:
                p.add_(0.1 * p.std() * noise)
