"""Parameter-efficient fine-tuning with LoRA, through the ``peft`` package (an optional dependency).

Chapter 6, §6.11, trains a LoRA version of the sentiment model next to full fine-tuning. LoRA (Hu et al., 2022)
freezes every pretrained weight and adds to chosen weight matrices ``W`` a low-rank update ``(alpha / r) * B @ A``,
with ``A`` of shape ``r x d_in`` and ``B`` of shape ``d_out x r``; only ``A``, ``B`` and the new classification head
are trained. :func:`add_lora` wraps a model from :func:`helpers.load_model`; the result trains with
:func:`helpers.train` like any other model. ``peft`` is not needed by the rest of the book: without it,
:func:`require_peft` raises an ``ImportError`` that says how to install it, and :func:`peft_available` lets a
notebook skip the experiment.
"""

from __future__ import annotations

from typing import Sequence

from torch import nn

INSTALL_HINT = (
    "LoRA in this book uses the `peft` package, which is not installed. Install it with "
    "`pip install peft` (it needs no network once installed), then run the cell again."
)


def require_peft():
    """The ``peft`` module, or an ``ImportError`` that says how to install it."""
    try:
        import peft
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    return peft


def peft_available() -> bool:
    """Whether ``peft`` can be imported here (chapter 6 skips its LoRA arm when it cannot)."""
    try:
        require_peft()
    except ImportError:
        return False
    return True


def add_lora(
    model: nn.Module,
    r: int = 8,
    alpha: int = 16,
    dropout: float = 0.1,
    target_modules: Sequence[str] = ("query", "value"),
) -> nn.Module:
    """``model`` (a sequence classifier) with LoRA adapters of rank ``r`` on the ``target_modules`` projections.

    Every pretrained weight is frozen; the adapters and the classification head stay trainable. The defaults are
    those of the LoRA paper for attention: the query and value projections, rank 8, ``alpha`` 16.
    """
    if not (isinstance(r, int) and r > 0):
        raise ValueError(f"r (the rank of the update) must be a positive whole number, got {r!r}.")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in target_modules if t not in names]
    if missing:
        raise ValueError(
            f"The model has no module named {missing}; BERT's attention projections are 'query', 'key' and 'value'."
        )
    peft = require_peft()
    config = peft.LoraConfig(
        task_type="SEQ_CLS", r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules)
    )
    return peft.get_peft_model(model, config)


def trainable_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts: what an optimiser updates against what the model holds."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())
